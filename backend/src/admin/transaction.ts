import { createAccessKeyRepository, type AccessKeyRepository } from '../db/access-key-repository.ts';
import { createAuditRepository } from '../db/audit-repository.ts';
import { createBedrockKeyRepository, type BedrockKeyRepository } from '../db/bedrock-key-repository.ts';
import type { Change, ChangeFeed } from '../db/change-feed.ts';
import type { Db } from '../db/client.ts';
import { createModelMappingRepository, type ModelMappingRepository } from '../db/model-mapping-repository.ts';
import { createUserRepository, type UserRepository } from '../db/user-repository.ts';
import { scrubSecrets, type AuditContext, type AuditEntry } from './audit.ts';

/** The repositories of one admin change, all on its transaction, plus its audit trail and cache news. */
export interface AdminTx {
  /** The transaction itself, for repositories of other modules. */
  db: Db;
  users: UserRepository;
  accessKeys: AccessKeyRepository;
  bedrockKeys: BedrockKeyRepository;
  modelMappings: ModelMappingRepository;
  /** Writes the entry in this transaction: no change without its entry, no entry without its change. */
  audit(entry: AuditEntry): Promise<void>;
  /** Tells every process's caches once this transaction commits (db/change-feed.ts). */
  changed(change: Change): void;
}

/**
 * Runs one admin change: `fn` in a transaction with its audit entries and NOTIFYs; after the commit
 * this process's own caches are brought up to date before the caller answers, so the admin's next
 * request (and the proxy's) already sees the change here, and within a notification everywhere else.
 */
export type Transact = <T>(context: AuditContext, fn: (tx: AdminTx) => Promise<T>) => Promise<T>;

export function createTransact(deps: { db: Db; changes: ChangeFeed }): Transact {
  return async (context, fn) => {
    const changes: Change[] = [];
    const result = await deps.db.transaction(async (transaction) => {
      const db: Db = transaction;
      const audit = createAuditRepository(db);
      const tx: AdminTx = {
        db,
        users: createUserRepository(db),
        accessKeys: createAccessKeyRepository(db),
        bedrockKeys: createBedrockKeyRepository(db),
        modelMappings: createModelMappingRepository(db),
        async audit(entry) {
          await audit.append({
            actor: context.actor,
            ip: context.ip,
            requestId: context.requestId,
            action: entry.action,
            targetType: entry.targetType,
            targetId: entry.targetId,
            before: scrubSecrets(entry.before),
            after: scrubSecrets(entry.after),
          });
        },
        changed(change) {
          if (!changes.some((c) => c.topic === change.topic && c.id === change.id)) changes.push(change);
        },
      };
      const value = await fn(tx);
      await deps.changes.publish(db, changes);
      return value;
    });
    await deps.changes.applyLocally(changes);
    return result;
  };
}
