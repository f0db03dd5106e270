import * as rds from 'aws-cdk-lib/aws-rds';

/**
 * Which Aurora PostgreSQL versions a deployment may run: those the installed aws-cdk-lib lists
 * (`rds.AuroraPostgresEngineVersion.VER_*`), from the seed's major (15) on, minus the ones it marks
 * "no longer supported by Amazon RDS" (a new cluster cannot be created on them). README "Database".
 */

/** The seed's version; RDS no longer creates clusters on it (README "Deviations from the seed"). */
export const SEED_AURORA_POSTGRES_VERSION = '15.4';

/** The newest 17.x aws-cdk-lib 2.276.0 lists: what a deployment runs unless `auroraPostgresVersion` pins another. */
export const DEFAULT_AURORA_POSTGRES_VERSION = '17.9';

/** The oldest major accepted: the seed's. */
const MIN_MAJOR = 15;

/**
 * Versions from major 15 on that aws-cdk-lib 2.276.0 marks `@deprecated … no longer supported by
 * Amazon RDS` in aws-rds/lib/cluster-engine.d.ts (aurora-versions.test.ts compares the two, so a
 * newer aws-cdk-lib that retires more fails the test until this list follows).
 */
export const RETIRED_AURORA_POSTGRES_VERSIONS: readonly string[] = [
  '15.2', '15.3', '15.4', '15.5', '15.6', '15.7', '15.9',
  '16.0', '16.1', '16.2', '16.3', '16.5',
  '17.1', '17.2',
];

const majorOf = (version: string) => Number(version.split('.')[0]);

/**
 * Every version the installed aws-cdk-lib lists, by its version string ("17.9"). Limitless
 * variants are left out: they are a different cluster type, not Serverless v2.
 */
export const KNOWN_AURORA_POSTGRES_VERSIONS: ReadonlyMap<string, rds.AuroraPostgresEngineVersion> = new Map(
  Object.getOwnPropertyNames(rds.AuroraPostgresEngineVersion)
    .filter((name) => /^VER_\d+(_\d+)*$/.test(name))
    .map((name) => Reflect.get(rds.AuroraPostgresEngineVersion, name) as rds.AuroraPostgresEngineVersion)
    .map((version) => [version.auroraPostgresFullVersion, version] as const),
);

/** Versions a new cluster can be created on: known, major 15 or later, not retired. */
export function isCurrentAuroraPostgresVersion(version: string): boolean {
  return (
    KNOWN_AURORA_POSTGRES_VERSIONS.has(version) &&
    majorOf(version) >= MIN_MAJOR &&
    !RETIRED_AURORA_POSTGRES_VERSIONS.includes(version)
  );
}

/** Why `version` cannot be deployed, or undefined when it can. */
export function auroraPostgresVersionProblem(version: string): string | undefined {
  if (isCurrentAuroraPostgresVersion(version)) return undefined;
  const example = `e.g. ${DEFAULT_AURORA_POSTGRES_VERSION} (the default) or 16.13`;
  if (!KNOWN_AURORA_POSTGRES_VERSIONS.has(version)) {
    return `"${version}" is not an Aurora PostgreSQL version the installed aws-cdk-lib knows (${example})`;
  }
  if (majorOf(version) < MIN_MAJOR) return `"${version}" is older than the seed's major version ${MIN_MAJOR} (${example})`;
  return `"${version}" is no longer offered by Amazon RDS for new clusters (${example})`;
}

/** The engine version object for a version `auroraPostgresVersionProblem` accepts. */
export function auroraPostgresVersion(version: string): rds.AuroraPostgresEngineVersion {
  const found = KNOWN_AURORA_POSTGRES_VERSIONS.get(version);
  if (!found || !isCurrentAuroraPostgresVersion(version)) {
    throw new Error(`Aurora PostgreSQL ${version}: ${auroraPostgresVersionProblem(version) ?? 'not deployable'}`);
  }
  return found;
}
