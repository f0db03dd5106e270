import type { UsageEvent } from '../accounting/usage-event.ts';
import type { Db } from './client.ts';
import { usageEvents } from './schema.ts';

export interface UsageRepository {
  /** Inserts a batch; events already stored (same request id) are skipped, so a replay is harmless. */
  insertBatch(events: UsageEvent[]): Promise<void>;
}

export function createUsageRepository(db: Db): UsageRepository {
  return {
    async insertBatch(events) {
      if (events.length === 0) return;
      await db
        .insert(usageEvents)
        .values(
          events.map((e) => ({
            requestId: e.requestId,
            occurredAt: e.occurredAt,
            userId: e.userId,
            accessKeyId: e.accessKeyId,
            endpoint: e.endpoint,
            provider: e.provider,
            isFallback: e.isFallback,
            fallbackReason: e.fallbackReason,
            requestedModel: e.requestedModel,
            servedModel: e.servedModel,
            stream: e.stream,
            statusCode: e.statusCode,
            outcome: e.outcome,
            errorType: e.errorType,
            stopReason: e.stopReason,
            inputTokens: e.inputTokens,
            outputTokens: e.outputTokens,
            cacheReadTokens: e.cacheReadTokens,
            cacheWrite5mTokens: e.cacheWrite5mTokens,
            cacheWrite1hTokens: e.cacheWrite1hTokens,
            latencyMs: e.latencyMs,
            ttfbMs: e.ttfbMs,
            upstreamRequestId: e.upstreamRequestId,
          })),
        )
        .onConflictDoNothing({ target: usageEvents.requestId });
    },
  };
}

