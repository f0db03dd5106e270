import { randomUUID } from 'node:crypto';
import type { UsageEvent } from '../../src/accounting/usage-event.ts';

/** A completed Plan request's usage event, with a fresh request id; override what the test is about. */
export function usageEvent(over: Partial<UsageEvent> = {}): UsageEvent {
  return {
    requestId: `req_${randomUUID().replaceAll('-', '')}`,
    occurredAt: new Date('2026-11-25T03:00:00Z'),
    userId: '00000000-0000-4000-8000-000000000001',
    accessKeyId: '00000000-0000-4000-8000-0000000000a1',
    endpoint: 'messages',
    provider: 'plan',
    isFallback: false,
    fallbackReason: null,
    requestedModel: 'claude-opus-5-5',
    servedModel: 'claude-opus-5-5',
    stream: true,
    statusCode: 200,
    outcome: 'completed',
    errorType: null,
    stopReason: 'end_turn',
    inputTokens: 0,
    outputTokens: 0,
    cacheReadTokens: 0,
    cacheWrite5mTokens: 0,
    cacheWrite1hTokens: 0,
    latencyMs: 100,
    ttfbMs: 10,
    upstreamRequestId: null,
    region: null,
    budgetReservationId: null,
    ...over,
  };
}
