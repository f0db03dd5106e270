import { Writable } from 'node:stream';
import { describe, expect, it } from 'vitest';
import { fallbackReadiness, warnFallbackReadiness, type ReadinessSources } from '../../../src/admin/fallback-readiness.ts';
import type { KeyWithoutBedrockKey } from '../../../src/db/access-key-repository.ts';
import { createLogger } from '../../../src/observability/logger.ts';

const key = (n: number, routingStrategy: KeyWithoutBedrockKey['routingStrategy']): KeyWithoutBedrockKey => ({
  accessKeyId: `key-${n}`,
  keyPrefix: `ak_prefix${n}0`,
  userId: `user-${n}`,
  userName: `user ${n}`,
  routingStrategy,
});

function sources(overrides: Partial<ReadinessSources> = {}): ReadinessSources {
  return {
    bedrockAuth: 'bearer',
    prices: { current: () => ({ rows: [{ provider: 'anthropic', model: 'claude-opus-5-5' }, { provider: 'anthropic', model: 'claude-imaginary-9' }] }) },
    modelMappings: { list: async () => [] },
    accessKeys: { withoutBedrockKey: async () => [key(1, 'plan_first'), key(2, 'plan_first'), key(3, 'bedrock_only')] },
    ...overrides,
  };
}

function captured() {
  const lines: Record<string, unknown>[] = [];
  let text = '';
  const sink = new Writable({
    write(chunk: Buffer, _enc, done) {
      text += chunk.toString();
      for (const line of chunk.toString().split('\n')) if (line) lines.push(JSON.parse(line) as Record<string, unknown>);
      done();
    },
  });
  return { logger: createLogger('info', sink), lines, text: () => text };
}

describe('fallbackReadiness', () => {
  it('names the unmapped priced models and the keys without a Bedrock key', async () => {
    const readiness = await fallbackReadiness(sources());
    expect(readiness.modelsWithoutMapping).toEqual(['claude-imaginary-9']);
    expect(readiness.keysWithoutBedrockKey.map((k) => k.accessKeyId)).toEqual(['key-1', 'key-2', 'key-3']);
  });

  it('asks for no keys under BEDROCK_AUTH=sigv4: the task role signs every call', async () => {
    const readiness = await fallbackReadiness(sources({ bedrockAuth: 'sigv4', accessKeys: { withoutBedrockKey: () => Promise.reject(new Error('not asked')) } }));
    expect(readiness.keysWithoutBedrockKey).toEqual([]);
  });
});

describe('warnFallbackReadiness', () => {
  it('writes one warning per kind of problem, with counts and model names, never a key', async () => {
    const { logger, lines, text } = captured();
    await warnFallbackReadiness(sources(), logger);
    expect(lines.map((l) => [l.level, l.msg])).toEqual([
      ['warn', '2 access keys cannot fall back to Bedrock: no Bedrock key (plan_first); GET /admin/fallback-readiness lists them'],
      ['warn', '1 access key cannot reach Bedrock: no Bedrock key (bedrock_only: their requests are refused); GET /admin/fallback-readiness lists them'],
      ['warn', 'models without a Bedrock mapping (no fallback for them): claude-imaginary-9'],
    ]);
    expect(text()).not.toMatch(/ak_prefix|key-\d/);
  });

  it('is silent when nothing stands in the way', async () => {
    const { logger, lines } = captured();
    await warnFallbackReadiness(sources({ prices: { current: () => ({ rows: [] }) }, accessKeys: { withoutBedrockKey: async () => [] } }), logger);
    expect(lines).toEqual([]);
  });

  it('never fails the start: a check that cannot run is one warning', async () => {
    const { logger, lines } = captured();
    await warnFallbackReadiness(sources({ modelMappings: { list: () => Promise.reject(new Error('database down')) } }), logger);
    expect(lines.map((l) => [l.level, l.msg])).toEqual([['warn', 'fallback readiness could not be checked']]);
  });
});
