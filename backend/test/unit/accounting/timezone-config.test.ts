import { describe, expect, it } from 'vitest';
import { ConfigError, loadConfig } from '../../../src/config.ts';

describe('TIMEZONE', () => {
  it('defaults to UTC (for a new database: main.ts keeps the zone an existing one was started with)', () => {
    expect(loadConfig({}).timezone).toBe('UTC');
  });

  it('takes any IANA zone Intl knows, in its canonical spelling', () => {
    expect(loadConfig({ TIMEZONE: 'europe/berlin' }).timezone).toBe('Europe/Berlin');
    expect(loadConfig({ TIMEZONE: ' UTC ' }).timezone).toBe('UTC');
  });

  it('refuses anything else at start-up, naming the variable', () => {
    for (const bad of ['Mars/Olympus_Mons', 'KST', 'Seoul']) {
      expect(() => loadConfig({ TIMEZONE: bad })).toThrow(ConfigError);
      expect(() => loadConfig({ TIMEZONE: bad })).toThrow(`TIMEZONE: must be an IANA time zone such as Asia/Seoul, Europe/Berlin or UTC (got "${bad}")`);
    }
  });
});
