import { createHash, createHmac, pbkdf2Sync, randomBytes } from 'node:crypto';
import pg from 'pg';
import { openDatabase, type SqlSession } from './client.ts';
import { migrate } from './migrate.ts';
import type { DatabaseTls } from './tls.ts';

/**
 * The application's own database role (README, Configuration: DATABASE_ADMIN_URL). The master
 * login migrates, then makes DATABASE_URL's user a role that may read and write the application's
 * rows and nothing else: no DDL, no role or database creation, no superuser. The master secret is
 * used for this alone; the server then serves as the application role.
 */

/** What the role has now, from pg_roles (null: it does not exist). */
export interface ExistingRole {
  superuser: boolean;
  createdb: boolean;
  createrole: boolean;
  replication: boolean;
  bypassrls: boolean;
  /** Roles it is a member of (it would inherit their privileges). */
  memberOf: string[];
}

export interface AppRolePlan {
  role: string;
  /** The password as PostgreSQL stores it (scramVerifier): the plain one never reaches the server. */
  passwordVerifier: string;
  database: string;
  schema: string;
  existing: ExistingRole | null;
}

const TABLE_PRIVILEGES = 'SELECT, INSERT, UPDATE, DELETE';
const SEQUENCE_PRIVILEGES = 'USAGE, SELECT';

/**
 * The statements that leave `role` with exactly the application's privileges, whatever it had.
 * Names and the verifier are quoted by node-postgres (escapeIdentifier, escapeLiteral), never
 * spliced in raw. An existing role loses any attribute or membership beyond LOGIN; NOSUPERUSER and
 * friends are named only when set, since naming them at all takes a superuser (RDS has none).
 */
export function appRoleStatements(plan: AppRolePlan): string[] {
  const role = pg.escapeIdentifier(plan.role);
  const database = pg.escapeIdentifier(plan.database);
  const schema = pg.escapeIdentifier(plan.schema);
  const password = `PASSWORD ${pg.escapeLiteral(plan.passwordVerifier)}`;
  const existing = plan.existing;
  const statements: string[] = [];
  if (!existing) {
    statements.push(`CREATE ROLE ${role} WITH LOGIN NOSUPERUSER NOCREATEDB NOCREATEROLE NOREPLICATION NOBYPASSRLS ${password}`);
  } else {
    const drop = [
      existing.superuser && 'NOSUPERUSER',
      existing.createdb && 'NOCREATEDB',
      existing.createrole && 'NOCREATEROLE',
      existing.replication && 'NOREPLICATION',
      existing.bypassrls && 'NOBYPASSRLS',
    ].filter((a): a is string => typeof a === 'string');
    statements.push(`ALTER ROLE ${role} WITH ${['LOGIN', ...drop].join(' ')} ${password}`);
    for (const group of existing.memberOf) statements.push(`REVOKE ${pg.escapeIdentifier(group)} FROM ${role}`);
  }
  statements.push(
    `REVOKE ALL ON DATABASE ${database} FROM ${role}`,
    `GRANT CONNECT ON DATABASE ${database} TO ${role}`,
    // Everyone may make temporary tables by default; the application makes none.
    `REVOKE TEMPORARY ON DATABASE ${database} FROM PUBLIC`,
    // Databases from before PostgreSQL 15 let everyone create objects in public.
    `REVOKE CREATE ON SCHEMA ${schema} FROM PUBLIC`,
    `REVOKE ALL ON SCHEMA ${schema} FROM ${role}`,
    `GRANT USAGE ON SCHEMA ${schema} TO ${role}`,
    `REVOKE ALL ON ALL TABLES IN SCHEMA ${schema} FROM ${role}`,
    `GRANT ${TABLE_PRIVILEGES} ON ALL TABLES IN SCHEMA ${schema} TO ${role}`,
    `REVOKE ALL ON ALL SEQUENCES IN SCHEMA ${schema} FROM ${role}`,
    `GRANT ${SEQUENCE_PRIVILEGES} ON ALL SEQUENCES IN SCHEMA ${schema} TO ${role}`,
    `GRANT EXECUTE ON ALL FUNCTIONS IN SCHEMA ${schema} TO ${role}`,
    // Tables a later migration creates (as the master, who runs this) are covered from the start.
    `ALTER DEFAULT PRIVILEGES IN SCHEMA ${schema} GRANT ${TABLE_PRIVILEGES} ON TABLES TO ${role}`,
    `ALTER DEFAULT PRIVILEGES IN SCHEMA ${schema} GRANT ${SEQUENCE_PRIVILEGES} ON SEQUENCES TO ${role}`,
    `ALTER DEFAULT PRIVILEGES IN SCHEMA ${schema} GRANT EXECUTE ON FUNCTIONS TO ${role}`,
  );
  return statements;
}

/**
 * `password` as PostgreSQL stores a SCRAM-SHA-256 password (what `\password` in psql sends), so
 * CREATE/ALTER ROLE never carries the password itself into the server's statement logs. The raw
 * password is hashed, as node-postgres does when it logs in with it.
 */
export function scramVerifier(password: string, salt: Buffer = randomBytes(16), iterations = 4096): string {
  const salted = pbkdf2Sync(password, salt, iterations, 32, 'sha256');
  const clientKey = createHmac('sha256', salted).update('Client Key').digest();
  const storedKey = createHash('sha256').update(clientKey).digest();
  const serverKey = createHmac('sha256', salted).update('Server Key').digest();
  return `SCRAM-SHA-256$${iterations}:${salt.toString('base64')}$${storedKey.toString('base64')}:${serverKey.toString('base64')}`;
}

/** The user, password and database of a postgres:// URL (config.ts turns the secret JSON into one). */
export function loginOf(url: string): { user: string; password: string; database: string } {
  const parsed = new URL(url);
  return {
    user: decodeURIComponent(parsed.username),
    password: decodeURIComponent(parsed.password),
    database: decodeURIComponent(parsed.pathname.replace(/^\//, '')),
  };
}

// Concurrent GRANTs on one object fail ("tuple concurrently updated"): tasks starting together take turns.
const APP_ROLE_LOCK_ID = 727_002;

/**
 * At start-up with DATABASE_ADMIN_URL: migrate as the master, then create or update the
 * application's role, and close the master connection. Returns what it did (never the password).
 */
export async function prepareDatabaseAsAdmin(options: { adminUrl: string; appUrl: string; tls: DatabaseTls }): Promise<{ applied: string[]; role: string; created: boolean }> {
  const app = loginOf(options.appUrl);
  if (!app.user) throw new Error('DATABASE_URL names no user: with DATABASE_ADMIN_URL it is the application role to create');
  if (!app.password) throw new Error('DATABASE_URL has no password: with DATABASE_ADMIN_URL it sets the application role\'s password');
  const admin = await openDatabase({ kind: 'postgres', url: options.adminUrl, tls: options.tls, poolSize: 1 });
  try {
    const applied = await migrate(admin);
    const created = await admin.withSession(async (session) => {
      const [where] = await session.query<{ database: string; schema: string | null; admin: string }>(
        'SELECT current_database() AS database, current_schema() AS schema, current_user AS admin',
      );
      if (!where?.schema) throw new Error('the master login has no current schema to grant on');
      if (app.user === where.admin) throw new Error('DATABASE_URL and DATABASE_ADMIN_URL are the same user: the application needs a role of its own');
      if (app.database && app.database !== where.database) {
        throw new Error(`DATABASE_URL names database ${app.database} but DATABASE_ADMIN_URL ${where.database}: they must be the same`);
      }
      await session.query('SELECT pg_advisory_lock($1)', [APP_ROLE_LOCK_ID]);
      try {
        const existing = await existingRole(session, app.user);
        const statements = appRoleStatements({
          role: app.user,
          passwordVerifier: scramVerifier(app.password),
          database: where.database,
          schema: where.schema,
          existing,
        });
        await session.exec('BEGIN');
        try {
          for (const statement of statements) await session.exec(statement);
          await session.exec('COMMIT');
        } catch (err) {
          await session.exec('ROLLBACK');
          // PostgreSQL's message names the object, never the statement (which holds the verifier).
          throw new Error(`application role ${app.user}: ${(err as Error).message}`, { cause: err });
        }
        return existing === null;
      } finally {
        await session.query('SELECT pg_advisory_unlock($1)', [APP_ROLE_LOCK_ID]);
      }
    });
    return { applied, role: app.user, created };
  } finally {
    await admin.close();
  }
}

async function existingRole(session: SqlSession, role: string): Promise<ExistingRole | null> {
  const [row] = await session.query<{
    rolsuper: boolean;
    rolcreatedb: boolean;
    rolcreaterole: boolean;
    rolreplication: boolean;
    rolbypassrls: boolean;
    member_of: string[];
  }>(
    `SELECT r.rolsuper, r.rolcreatedb, r.rolcreaterole, r.rolreplication, r.rolbypassrls,
            ARRAY(SELECT g.rolname::text FROM pg_auth_members m JOIN pg_roles g ON g.oid = m.roleid WHERE m.member = r.oid ORDER BY 1) AS member_of
       FROM pg_roles r WHERE r.rolname = $1`,
    [role],
  );
  if (!row) return null;
  return {
    superuser: row.rolsuper,
    createdb: row.rolcreatedb,
    createrole: row.rolcreaterole,
    replication: row.rolreplication,
    bypassrls: row.rolbypassrls,
    memberOf: row.member_of,
  };
}
