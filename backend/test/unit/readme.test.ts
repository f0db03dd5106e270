import fs from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { SETTINGS } from '../../src/config.ts';

const readme = fs.readFileSync(path.resolve(import.meta.dirname, '../../../README.md'), 'utf8');

describe('README', () => {
  it('documents every configuration variable the server reads', () => {
    for (const setting of SETTINGS) expect(readme, setting.env).toContain(`| \`${setting.env}\` |`);
  });

  it('gives each variable the default config.ts gives it', () => {
    for (const setting of SETTINGS) {
      const row = readme.split('\n').find((line) => line.startsWith(`| \`${setting.env}\` |`));
      const shown = row?.split('|')[2]?.trim();
      // The others say in words how they are filled ("—", "dev: generated", "derived").
      if (setting.default) expect(shown, setting.env).toBe(setting.default);
    }
  });

  it('shows the two commands', () => {
    expect(readme).toContain('npm install && npm start');
    expect(readme).toContain('npm test');
  });
});
