import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';

/**
 * A throwaway PostgreSQL cluster that accepts TLS connections only (hostssl with SCRAM passwords,
 * hostnossl rejected), with a certificate for localhost and 127.0.0.1 from a CA made here, plus a
 * second CA that signed nothing of it. The binaries are the `postgresql` package's (.ci/run
 * installs it); as root the server runs as the postgres user, as initdb insists.
 */
export interface TlsPostgres {
  port: number;
  /** The superuser's password (user postgres). */
  password: string;
  /** PEM of the CA that signed the server's certificate, and of one that did not. */
  caFile: string;
  wrongCaFile: string;
  /** A second loopback address the server listens on, which its certificate does not name. */
  unnamedHost: string;
  stop(): void;
}

const UNNAMED_HOST = '127.0.0.2';

function serverBinaries(): string {
  const root = '/usr/lib/postgresql';
  const versions = fs.existsSync(root) ? fs.readdirSync(root).filter((v) => fs.existsSync(path.join(root, v, 'bin/initdb'))) : [];
  const newest = versions.sort((a, b) => Number(b) - Number(a))[0];
  if (!newest) {
    throw new Error(`no PostgreSQL server binaries in ${root}/*/bin (initdb, pg_ctl): install them with \`apt-get install postgresql\` (.ci/run does)`);
  }
  return path.join(root, newest, 'bin');
}

function openssl(args: string[], cwd: string): void {
  try {
    execFileSync('openssl', args, { cwd, stdio: 'pipe' });
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') throw new Error('openssl is not installed: `apt-get install openssl`');
    throw new Error(`openssl ${args[0]} failed: ${String((err as { stderr?: Buffer }).stderr ?? err)}`);
  }
}

/** A CA (self-signed, for signing certificates only) in `name`.pem and `name`.key. */
function makeCa(dir: string, name: string): void {
  openssl(
    ['req', '-x509', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes', '-days', '2', '-subj', `/CN=ccproxy test ${name}`,
      '-addext', 'basicConstraints=critical,CA:TRUE', '-addext', 'keyUsage=critical,keyCertSign,cRLSign', '-keyout', `${name}.key`, '-out', `${name}.pem`],
    dir,
  );
}

function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const probe = net.createServer();
    probe.once('error', reject);
    probe.listen(0, '127.0.0.1', () => {
      const { port } = probe.address() as net.AddressInfo;
      probe.close(() => resolve(port));
    });
  });
}

export async function startTlsPostgres(): Promise<TlsPostgres> {
  const bin = serverBinaries();
  const asRoot = process.getuid?.() === 0;
  const run = (file: string, args: string[]) =>
    execFileSync(asRoot ? 'runuser' : file, asRoot ? ['-u', 'postgres', '--', file, ...args] : args, { stdio: 'pipe' });
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'ccproxy-tls-pg-'));
  const password = 'tls-test-superuser-password';
  makeCa(dir, 'ca');
  makeCa(dir, 'wrong-ca');
  fs.writeFileSync(path.join(dir, 'server.ext'), 'subjectAltName=DNS:localhost,IP:127.0.0.1\nextendedKeyUsage=serverAuth\n');
  openssl(['req', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes', '-subj', '/CN=localhost', '-keyout', 'server.key', '-out', 'server.csr'], dir);
  openssl(['x509', '-req', '-in', 'server.csr', '-CA', 'ca.pem', '-CAkey', 'ca.key', '-CAcreateserial', '-days', '2', '-extfile', 'server.ext', '-out', 'server.crt'], dir);
  fs.writeFileSync(path.join(dir, 'password'), password);
  fs.chmodSync(path.join(dir, 'server.key'), 0o600);
  if (asRoot) execFileSync('chown', ['-R', 'postgres:', dir]);
  // The CA files are read by this process too (the test, the server under test).
  fs.chmodSync(dir, 0o755);

  const data = path.join(dir, 'data');
  run(path.join(bin, 'initdb'), ['-D', data, '-U', 'postgres', `--pwfile=${path.join(dir, 'password')}`, '-A', 'scram-sha-256', '--no-sync', '-E', 'UTF8', '--locale=C.UTF-8']);
  fs.writeFileSync(
    path.join(data, 'pg_hba.conf'),
    ['# TLS or nothing', 'hostssl all all 127.0.0.0/8 scram-sha-256', 'hostnossl all all 0.0.0.0/0 reject', ''].join('\n'),
  );
  const port = await freePort();
  fs.appendFileSync(
    path.join(data, 'postgresql.conf'),
    [
      `port = ${port}`,
      `listen_addresses = '127.0.0.1,${UNNAMED_HOST}'`,
      `unix_socket_directories = '${dir}'`,
      'ssl = on',
      `ssl_cert_file = '${path.join(dir, 'server.crt')}'`,
      `ssl_key_file = '${path.join(dir, 'server.key')}'`,
      'fsync = off',
      'synchronous_commit = off',
      'full_page_writes = off',
      '',
    ].join('\n'),
  );
  run(path.join(bin, 'pg_ctl'), ['-D', data, '-l', path.join(dir, 'log'), '-w', 'start']);
  return {
    port,
    password,
    caFile: path.join(dir, 'ca.pem'),
    wrongCaFile: path.join(dir, 'wrong-ca.pem'),
    unnamedHost: UNNAMED_HOST,
    stop() {
      try {
        run(path.join(bin, 'pg_ctl'), ['-D', data, '-m', 'immediate', '-w', 'stop']);
      } finally {
        fs.rmSync(dir, { recursive: true, force: true });
      }
    },
  };
}
