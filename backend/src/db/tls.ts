import type { ConnectionOptions } from 'node:tls';

/**
 * How a PostgreSQL connection is protected (README, Configuration: DATABASE_SSL_MODE):
 * `disable` plaintext, `require` encrypted without checking whom we talk to, `verify-full`
 * encrypted to a server whose certificate chains to the CA bundle and names the host we dialled.
 */
export type SslMode = 'disable' | 'require' | 'verify-full';

export const SSL_MODES: readonly SslMode[] = ['disable', 'require', 'verify-full'];

export interface DatabaseTls {
  mode: SslMode;
  /** PEM bundle the server's certificate must chain to (verify-full); unset: Node's own roots. */
  ca?: string;
}

export class DatabaseUrlError extends Error {
  override name = 'DatabaseUrlError';
}

// libpq's sslmode values and node-postgres's `no-verify`, in our three modes. `prefer` and `allow`
// fall back to plaintext when TLS fails, `verify-ca` skips the host name: neither is offered.
const URL_MODES: Readonly<Record<string, SslMode>> = { disable: 'disable', require: 'require', 'no-verify': 'require', 'verify-full': 'verify-full' };

/**
 * The sslmode a postgres:// URL asks for, if any. Other TLS parameters are refused: node-postgres
 * would let them replace the TLS options this process sets (its connection string wins over the
 * `ssl` object), so the CA comes from DATABASE_CA_FILE only.
 */
export function urlSslMode(url: string): SslMode | undefined {
  const params = new URL(url).searchParams;
  for (const name of params.keys()) {
    if (name !== 'sslmode' && (name.startsWith('ssl') || name === 'uselibpqcompat')) {
      throw new DatabaseUrlError(`the URL parameter ${name} is not supported: set DATABASE_SSL_MODE and DATABASE_CA_FILE instead`);
    }
  }
  const raw = params.get('sslmode');
  if (raw === null) return undefined;
  const mode = URL_MODES[raw];
  if (!mode) throw new DatabaseUrlError(`sslmode=${raw} is not supported: use disable, require or verify-full`);
  return mode;
}

/** The strictest of the modes asked for: a setting never weakens another. */
export function strictestSslMode(modes: readonly SslMode[]): SslMode {
  return modes.reduce<SslMode>((a, b) => (SSL_MODES.indexOf(b) > SSL_MODES.indexOf(a) ? b : a), 'disable');
}

/**
 * node-postgres's connection settings for `url` under `tls`: the URL without its sslmode (which
 * node-postgres would otherwise apply over ours) and the TLS options. node-postgres sends the host
 * name as SNI and checks the certificate against the host it dials (an IP against the IP SANs).
 */
export function pgConnection(url: string, tls: DatabaseTls): { connectionString: string; ssl: false | ConnectionOptions } {
  urlSslMode(url);
  const parsed = new URL(url);
  parsed.searchParams.delete('sslmode');
  const connectionString = parsed.toString();
  switch (tls.mode) {
    case 'disable':
      return { connectionString, ssl: false };
    case 'require':
      return { connectionString, ssl: { rejectUnauthorized: false } };
    case 'verify-full':
      return { connectionString, ssl: { rejectUnauthorized: true, ...(tls.ca ? { ca: tls.ca } : {}) } };
  }
}
