import type { ConnectionOptions } from 'node:tls';
import type { PGlite } from '@electric-sql/pglite';
import pg from 'pg';

/**
 * PostgreSQL LISTEN on one channel. Notifications sent with `pg_notify` (see db/change-feed.ts)
 * reach every listening process once the sending transaction commits.
 */
export interface NotificationListener {
  /**
   * Calls `onPayload` for each notification on `channel`. `onGap` is called whenever notifications
   * may have been missed (the connection dropped and came back), so the caller can drop its caches.
   * Resolves once listening; the returned function stops.
   */
  listen(channel: string, handlers: ListenHandlers): Promise<() => Promise<void>>;
}

export interface ListenHandlers {
  onPayload: (payload: string) => void;
  onGap: () => void;
  /** The connection failed (it is being re-established). */
  onError?: (err: unknown) => void;
}

/** The embedded database is in this process: nothing to reconnect, nothing to miss. */
export function createPgliteListener(client: PGlite): NotificationListener {
  return {
    async listen(channel, { onPayload }) {
      const unlisten = await client.listen(channel, onPayload);
      return () => unlisten();
    },
  };
}

export interface PgListenerOptions {
  url: string;
  /** TLS as the pool has it (db/tls.ts); unset: plaintext. */
  ssl?: false | ConnectionOptions;
  /** How the connection shows in pg_stat_activity (default `ccproxy-listener`). */
  applicationName?: string;
  /** A NOTIFY whose delivery stalls this long means the connection is dead (default 10 s). */
  heartbeatMs?: number;
  /** Reconnect back-off bounds (defaults 100 ms → 5 s). */
  minBackoffMs?: number;
  maxBackoffMs?: number;
}

/**
 * LISTEN needs a connection of its own: a pooled one would be handed to other queries. This one
 * is kept alive by a heartbeat query, and when it fails (database restart, failover, a silent
 * network drop the heartbeat notices) it reconnects with back-off and reports the gap.
 */
export function createPgListener(options: PgListenerOptions): NotificationListener {
  const heartbeatMs = options.heartbeatMs ?? 10_000;
  const minBackoff = options.minBackoffMs ?? 100;
  const maxBackoff = options.maxBackoffMs ?? 5_000;

  return {
    async listen(channel, { onPayload, onGap, onError = () => {} }) {
      let client: pg.Client | undefined;
      let stopped = false;
      let backoff = minBackoff;
      let heartbeat: NodeJS.Timeout | undefined;
      let retry: NodeJS.Timeout | undefined;

      const connect = async (): Promise<void> => {
        const c = new pg.Client({
          connectionString: options.url,
          ssl: options.ssl ?? false,
          keepAlive: true,
          connectionTimeoutMillis: 10_000,
          application_name: options.applicationName ?? 'ccproxy-listener',
        });
        c.on('notification', (msg) => {
          if (msg.channel === channel && msg.payload !== undefined) onPayload(msg.payload);
        });
        c.on('error', (err) => lost(c, err));
        c.on('end', () => lost(c, new Error('listener connection ended')));
        try {
          await c.connect();
          await c.query(`LISTEN ${pg.escapeIdentifier(channel)}`);
        } catch (err) {
          c.end().catch(() => {});
          throw err;
        }
        if (stopped) {
          await c.end().catch(() => {});
          return;
        }
        client = c;
        backoff = minBackoff;
        heartbeat = setInterval(() => {
          // A query that never returns is as dead as one that fails.
          const timer = setTimeout(() => lost(c, new Error('listener heartbeat timed out')), heartbeatMs);
          c.query('SELECT 1').then(
            () => clearTimeout(timer),
            (err: unknown) => {
              clearTimeout(timer);
              lost(c, err);
            },
          );
        }, heartbeatMs);
        heartbeat.unref();
      };

      const lost = (c: pg.Client, err: unknown): void => {
        if (stopped || client !== c) return; // already handled, or an old connection
        client = undefined;
        clearInterval(heartbeat);
        onError(err);
        c.end().catch(() => {});
        scheduleReconnect();
      };

      const scheduleReconnect = (): void => {
        retry = setTimeout(() => {
          connect().then(
            () => onGap(), // whatever was sent while we were away is lost: let the caller resync
            (err: unknown) => {
              onError(err);
              backoff = Math.min(backoff * 2, maxBackoff);
              if (!stopped) scheduleReconnect();
            },
          );
        }, backoff);
        retry.unref();
      };

      await connect();
      return async () => {
        stopped = true;
        clearInterval(heartbeat);
        clearTimeout(retry);
        const c = client;
        client = undefined;
        await c?.end().catch(() => {});
      };
    },
  };
}
