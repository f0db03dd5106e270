import { execFileSync } from 'node:child_process';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { environmentBlock } from '../../../src/security/initial-environment.ts';

const MODULE = path.resolve(import.meta.dirname, '../../../src/security/initial-environment.ts');

describe('the initial environment block', () => {
  it('is found after a command name that holds spaces and parentheses', () => {
    // proc(5): pid (comm) state, then fields 4 to 52; env_start and env_end are 50 and 51.
    const fields = Array.from({ length: 52 - 3 }, (_, i) => String(i + 3));
    fields[50 - 3] = '140733193388032';
    fields[51 - 3] = '140733193392128';
    expect(environmentBlock(`4242 (node (x) y) ${fields.join(' ')}\n`)).toEqual({ start: 140733193388032, end: 140733193392128 });
  });

  it.runIf(process.platform === 'linux')("loses one variable's value, after it has left process.env; the others stay", () => {
    const script = `
      import fs from 'node:fs';
      import { scrubInitialEnvironment } from ${JSON.stringify(MODULE)};
      delete process.env.SCRUB_ME;
      const scrubbed = scrubInitialEnvironment('SCRUB_ME');
      const again = scrubInitialEnvironment('SCRUB_ME');
      const missing = scrubInitialEnvironment('NEVER_SET');
      const entries = fs.readFileSync('/proc/self/environ', 'latin1').split('\\0').filter((e) => /^(SCRUB_ME|KEEP_ME)=/.test(e));
      process.stdout.write(JSON.stringify({ scrubbed, again, missing, entries, keep: process.env.KEEP_ME }));
    `;
    const out = execFileSync(process.execPath, ['--import', 'tsx', '--input-type=module', '-e', script], {
      env: { PATH: process.env.PATH, SCRUB_ME: 'the-master-secret', KEEP_ME: 'the-app-secret' },
      encoding: 'utf8',
    });
    expect(JSON.parse(out)).toEqual({
      scrubbed: true,
      // Nothing left to overwrite.
      again: false,
      missing: false,
      entries: ['SCRUB_ME=', 'KEEP_ME=the-app-secret'],
      keep: 'the-app-secret',
    });
  });
});
