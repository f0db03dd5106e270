import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import * as path from 'node:path';
import { describe, expect, it } from 'vitest';
import {
  DEFAULT_AURORA_POSTGRES_VERSION,
  isCurrentAuroraPostgresVersion,
  KNOWN_AURORA_POSTGRES_VERSIONS,
  RETIRED_AURORA_POSTGRES_VERSIONS,
  SEED_AURORA_POSTGRES_VERSION,
} from '../lib/aurora-versions.ts';

/**
 * What the installed aws-cdk-lib declares for AuroraPostgresEngineVersion, read from its type
 * declarations (the `@deprecated … no longer supported by Amazon RDS` marks exist only there).
 */
function declaredVersions(): { version: string; retired: boolean }[] {
  const lib = path.dirname(createRequire(import.meta.url).resolve('aws-cdk-lib/package.json'));
  const text = readFileSync(path.join(lib, 'aws-rds', 'lib', 'cluster-engine.d.ts'), 'utf8');
  const start = text.indexOf('export declare class AuroraPostgresEngineVersion');
  const body = text.slice(start, text.indexOf('export declare class', start + 1));
  return [...body.matchAll(/\/\*\*((?:(?!\*\/)[\s\S])*)\*\/\s*static readonly VER_(\d+(?:_\d+)*): /g)].map((m) => ({
    version: (m[2] ?? '').replaceAll('_', '.'),
    retired: /@deprecated[^\n]*no longer supported by Amazon RDS/.test(m[1] ?? ''),
  }));
}

const majorOf = (version: string) => Number(version.split('.')[0]);
const minorOf = (version: string) => Number(version.split('.')[1]);

describe('Aurora PostgreSQL versions', () => {
  const declared = declaredVersions();

  it('reads the same versions from aws-cdk-lib at run time as its declarations list', () => {
    expect(declared.length).toBeGreaterThan(100);
    expect([...KNOWN_AURORA_POSTGRES_VERSIONS.keys()].sort()).toEqual(declared.map((d) => d.version).sort());
  });

  it('retires exactly the versions from 15 on that the installed aws-cdk-lib marks unsupported by RDS', () => {
    const retired = declared.filter((d) => d.retired && majorOf(d.version) >= 15).map((d) => d.version);
    expect([...RETIRED_AURORA_POSTGRES_VERSIONS].sort()).toEqual(retired.sort());
  });

  it('defaults to a version the installed aws-cdk-lib lists as supported, not the seed 15.4', () => {
    expect(DEFAULT_AURORA_POSTGRES_VERSION).not.toBe('15.4');
    expect(DEFAULT_AURORA_POSTGRES_VERSION).not.toBe(SEED_AURORA_POSTGRES_VERSION);
    expect(KNOWN_AURORA_POSTGRES_VERSIONS.has(DEFAULT_AURORA_POSTGRES_VERSION)).toBe(true);
    expect(declared.find((d) => d.version === DEFAULT_AURORA_POSTGRES_VERSION)?.retired).toBe(false);
    expect(isCurrentAuroraPostgresVersion(DEFAULT_AURORA_POSTGRES_VERSION)).toBe(true);
  });

  it('defaults to the newest 17.x the installed aws-cdk-lib lists', () => {
    const newest17 = declared
      .filter((d) => !d.retired && majorOf(d.version) === 17)
      .map((d) => d.version)
      .sort((a, b) => minorOf(b) - minorOf(a))[0];
    expect(DEFAULT_AURORA_POSTGRES_VERSION).toBe(newest17);
  });

  it('accepts current versions of 15, 16, 17 and 18 and refuses the retired, the unknown and the older majors', () => {
    for (const version of ['15.17', '16.13', '17.9', '18.6']) expect(isCurrentAuroraPostgresVersion(version), version).toBe(true);
    for (const version of ['15.4', '16.3', '17.2', '17.3', '14.22', '16.4-limitless']) {
      expect(isCurrentAuroraPostgresVersion(version), version).toBe(false);
    }
  });
});
