import { randomUUID } from 'node:crypto';
import { sql } from 'drizzle-orm';
import type { Db, Database } from './client.ts';

/**
 * What changed, as far as a cache cares: the proxy holds keys, users' routing, Bedrock keys, model
 * mappings and breakers in memory, and every process must drop what an admin change made stale.
 */
export type ChangeTopic = 'user' | 'access_key' | 'bedrock_key' | 'model_mappings' | 'circuit_breaker' | 'model_prices' | 'plan_window';
const TOPICS: ReadonlySet<string> = new Set<ChangeTopic>(['user', 'access_key', 'bedrock_key', 'model_mappings', 'circuit_breaker', 'model_prices', 'plan_window']);

export interface Change {
  topic: ChangeTopic;
  /** The user or access key id; absent for table-wide topics (model_mappings). */
  id?: string;
}

export interface ChangeSubscriber {
  onChange(change: Change): void | Promise<void>;
  /** Notifications may have been missed (the listener reconnected): drop everything cached. */
  onGap(): void | Promise<void>;
}

export interface ChangeFeed {
  /**
   * Queues the NOTIFYs on `tx`, the transaction making the change: PostgreSQL delivers them when it
   * commits (never for a rollback), so other processes re-read only committed rows.
   */
  publish(tx: Db, changes: readonly Change[]): Promise<void>;
  /** This process's own subscribers, at once: the admin's response waits for them, not for the round trip. */
  applyLocally(changes: readonly Change[]): Promise<void>;
  subscribe(subscriber: ChangeSubscriber): void;
  /** Starts listening; resolves once other processes' changes will be heard. */
  start(): Promise<void>;
  close(): Promise<void>;
}

export const CHANGES_CHANNEL = 'ccproxy_changes';

/** The wire form, kept small (NOTIFY payloads stop at 8000 bytes): origin, topic, id. */
interface Payload {
  o: string;
  t: string;
  id?: string;
}

export function encodeChange(origin: string, change: Change): string {
  const payload: Payload = { o: origin, t: change.topic, ...(change.id ? { id: change.id } : {}) };
  return JSON.stringify(payload);
}

/** The change and who sent it, or null for anything this version does not know (a newer task during a deploy). */
export function decodeChange(text: string): { origin: string; change: Change } | null {
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch {
    return null;
  }
  const p = value as Partial<Payload> | null;
  if (!p || typeof p.o !== 'string' || typeof p.t !== 'string' || !TOPICS.has(p.t)) return null;
  if (p.id !== undefined && typeof p.id !== 'string') return null;
  return { origin: p.o, change: { topic: p.t as ChangeTopic, ...(p.id ? { id: p.id } : {}) } };
}

export function createChangeFeed(options: {
  database: Pick<Database, 'notifications'>;
  channel?: string;
  onError: (err: unknown, context: string) => void;
}): ChangeFeed {
  const channel = options.channel ?? CHANGES_CHANNEL;
  // Each process applies its own changes before answering, so its echo from the database is skipped.
  const origin = randomUUID();
  const subscribers: ChangeSubscriber[] = [];
  let stop: (() => Promise<void>) | undefined;

  async function dispatch(changes: readonly Change[]): Promise<void> {
    for (const change of changes) {
      for (const s of subscribers) {
        try {
          await s.onChange(change);
        } catch (err) {
          options.onError(err, `applying a ${change.topic} change`);
        }
      }
    }
  }

  async function gap(): Promise<void> {
    for (const s of subscribers) {
      try {
        await s.onGap();
      } catch (err) {
        options.onError(err, 'resynchronising after a listener gap');
      }
    }
  }

  return {
    async publish(tx, changes) {
      for (const change of changes) await tx.execute(sql`SELECT pg_notify(${channel}, ${encodeChange(origin, change)})`);
    },
    applyLocally: dispatch,
    subscribe(subscriber) {
      subscribers.push(subscriber);
    },
    async start() {
      stop = await options.database.notifications.listen(channel, {
        onPayload(text) {
          const decoded = decodeChange(text);
          if (decoded && decoded.origin !== origin) void dispatch([decoded.change]);
        },
        onGap: () => void gap(),
        onError: (err) => options.onError(err, 'listening for changes (reconnecting)'),
      });
    },
    async close() {
      await stop?.();
      stop = undefined;
    },
  };
}
