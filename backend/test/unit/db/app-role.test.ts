import { createHash, createHmac, pbkdf2Sync } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { appRoleStatements, loginOf, scramVerifier, type AppRolePlan, type ExistingRole } from '../../../src/db/app-role.ts';

const plain: ExistingRole = { superuser: false, createdb: false, createrole: false, replication: false, bypassrls: false, memberOf: [] };
const plan = (overrides: Partial<AppRolePlan> = {}): AppRolePlan => ({
  role: 'ccproxy_app',
  passwordVerifier: 'SCRAM-SHA-256$4096:c2FsdA==$stored:server',
  database: 'ccproxy',
  schema: 'public',
  existing: null,
  ...overrides,
});

const GRANTS = [
  'REVOKE ALL ON DATABASE "ccproxy" FROM "ccproxy_app"',
  'GRANT CONNECT ON DATABASE "ccproxy" TO "ccproxy_app"',
  'REVOKE TEMPORARY ON DATABASE "ccproxy" FROM PUBLIC',
  'REVOKE CREATE ON SCHEMA "public" FROM PUBLIC',
  'REVOKE ALL ON SCHEMA "public" FROM "ccproxy_app"',
  'GRANT USAGE ON SCHEMA "public" TO "ccproxy_app"',
  'REVOKE ALL ON ALL TABLES IN SCHEMA "public" FROM "ccproxy_app"',
  'GRANT SELECT, INSERT, UPDATE, DELETE ON ALL TABLES IN SCHEMA "public" TO "ccproxy_app"',
  'REVOKE ALL ON ALL SEQUENCES IN SCHEMA "public" FROM "ccproxy_app"',
  'GRANT USAGE, SELECT ON ALL SEQUENCES IN SCHEMA "public" TO "ccproxy_app"',
  'GRANT EXECUTE ON ALL FUNCTIONS IN SCHEMA "public" TO "ccproxy_app"',
  'ALTER DEFAULT PRIVILEGES IN SCHEMA "public" GRANT SELECT, INSERT, UPDATE, DELETE ON TABLES TO "ccproxy_app"',
  'ALTER DEFAULT PRIVILEGES IN SCHEMA "public" GRANT USAGE, SELECT ON SEQUENCES TO "ccproxy_app"',
  'ALTER DEFAULT PRIVILEGES IN SCHEMA "public" GRANT EXECUTE ON FUNCTIONS TO "ccproxy_app"',
];

describe('appRoleStatements', () => {
  it.each<[string, AppRolePlan, string[]]>([
    [
      'creates a missing role with login only',
      plan(),
      ['CREATE ROLE "ccproxy_app" WITH LOGIN NOSUPERUSER NOCREATEDB NOCREATEROLE NOREPLICATION NOBYPASSRLS PASSWORD \'SCRAM-SHA-256$4096:c2FsdA==$stored:server\'', ...GRANTS],
    ],
    [
      'sets the password of an existing plain role, naming no attribute it lacks',
      plan({ existing: plain }),
      ['ALTER ROLE "ccproxy_app" WITH LOGIN PASSWORD \'SCRAM-SHA-256$4096:c2FsdA==$stored:server\'', ...GRANTS],
    ],
    [
      'takes away every attribute and membership an existing role had',
      plan({ existing: { superuser: true, createdb: true, createrole: true, replication: true, bypassrls: true, memberOf: ['rds_superuser', 'odd"group'] } }),
      [
        'ALTER ROLE "ccproxy_app" WITH LOGIN NOSUPERUSER NOCREATEDB NOCREATEROLE NOREPLICATION NOBYPASSRLS PASSWORD \'SCRAM-SHA-256$4096:c2FsdA==$stored:server\'',
        'REVOKE "rds_superuser" FROM "ccproxy_app"',
        'REVOKE "odd""group" FROM "ccproxy_app"',
        ...GRANTS,
      ],
    ],
  ])('%s', (_, input, expected) => {
    expect(appRoleStatements(input)).toEqual(expected);
  });

  it('quotes names and the verifier, whatever they hold', () => {
    const [create, revokeDatabase, , , , , usage] = appRoleStatements(
      plan({ role: 'app"; DROP TABLE users; --', database: 'my db', schema: 'Proxy', passwordVerifier: "it's\\" }),
    );
    expect(create).toBe('CREATE ROLE "app""; DROP TABLE users; --" WITH LOGIN NOSUPERUSER NOCREATEDB NOCREATEROLE NOREPLICATION NOBYPASSRLS PASSWORD  E\'it\'\'s\\\\\'');
    expect(revokeDatabase).toBe('REVOKE ALL ON DATABASE "my db" FROM "app""; DROP TABLE users; --"');
    expect(usage).toBe('GRANT USAGE ON SCHEMA "Proxy" TO "app""; DROP TABLE users; --"');
  });
});

describe('scramVerifier', () => {
  it('stores the keys PostgreSQL derives from the password and salt', () => {
    const salt = Buffer.from('0123456789abcdef');
    const salted = pbkdf2Sync('correct horse', salt, 4096, 32, 'sha256');
    const stored = createHash('sha256').update(createHmac('sha256', salted).update('Client Key').digest()).digest('base64');
    const server = createHmac('sha256', salted).update('Server Key').digest('base64');
    expect(scramVerifier('correct horse', salt)).toBe(`SCRAM-SHA-256$4096:${salt.toString('base64')}$${stored}:${server}`);
  });

  it('never holds the password and salts each call afresh', () => {
    const a = scramVerifier('correct horse');
    expect(a).toMatch(/^SCRAM-SHA-256\$4096:[A-Za-z0-9+/]{22}==\$[A-Za-z0-9+/]{43}=:[A-Za-z0-9+/]{43}=$/);
    expect(a).not.toContain('correct horse');
    expect(scramVerifier('correct horse')).not.toBe(a);
  });
});

describe('loginOf', () => {
  it('decodes the user, password and database of a URL', () => {
    expect(loginOf('postgres://ccproxy_app:p%40ss%2Fw%3Ard@db.example.com:5432/proxy')).toEqual({ user: 'ccproxy_app', password: 'p@ss/w:rd', database: 'proxy' });
  });
});
