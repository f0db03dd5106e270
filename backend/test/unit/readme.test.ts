import fs from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { SETTINGS } from '../../src/config.ts';

const readme = fs.readFileSync(path.resolve(import.meta.dirname, '../../../README.md'), 'utf8');

describe('README', () => {
  it('documents every configuration variable the server reads', () => {
    for (const setting of SETTINGS) expect(readme, setting.env).toContain(`| \`${setting.env}\` |`);
  });

  it('shows the two commands', () => {
    expect(readme).toContain('npm install && npm start');
    expect(readme).toContain('npm test');
  });
});
