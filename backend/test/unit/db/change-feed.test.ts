import { describe, expect, it } from 'vitest';
import { createChangeFeed, decodeChange, encodeChange, type Change } from '../../../src/db/change-feed.ts';
import type { ListenHandlers } from '../../../src/db/notification-listener.ts';

describe('change payloads', () => {
  it('round-trip, small', () => {
    const text = encodeChange('origin-1', { topic: 'access_key', id: '00000000-0000-4000-8000-000000000000' });
    expect(text.length).toBeLessThan(120);
    expect(decodeChange(text)).toEqual({ origin: 'origin-1', change: { topic: 'access_key', id: '00000000-0000-4000-8000-000000000000' } });
    expect(decodeChange(encodeChange('o', { topic: 'model_mappings' }))).toEqual({ origin: 'o', change: { topic: 'model_mappings' } });
  });

  it.each(['', 'not json', 'null', '[]', '{"t":"user"}', '{"o":"x","t":"planet"}', '{"o":"x","t":"user","id":7}'])('ignores %j', (text) => {
    expect(decodeChange(text)).toBeNull();
  });
});

describe('change feed', () => {
  function feedWithFakeListener() {
    let handlers: ListenHandlers | undefined;
    const errors: string[] = [];
    const feed = createChangeFeed({
      database: {
        notifications: {
          async listen(_channel, h) {
            handlers = h;
            return async () => {
              handlers = undefined;
            };
          },
        },
      },
      onError: (_err, context) => errors.push(context),
    });
    return { feed, deliver: (text: string) => handlers!.onPayload(text), gap: () => handlers!.onGap(), errors, listening: () => handlers !== undefined };
  }

  it('hands other processes\' changes to subscribers, skips its own echo, and reports a gap', async () => {
    const { feed, deliver, gap, listening } = feedWithFakeListener();
    const seen: (Change | 'gap')[] = [];
    feed.subscribe({ onChange: (c) => void seen.push(c), onGap: () => void seen.push('gap') });
    await feed.start();
    await feed.applyLocally([{ topic: 'user', id: 'u1' }]);
    deliver(encodeChange('another-process', { topic: 'access_key', id: 'k1' }));
    deliver('garbage');
    gap();
    await new Promise((r) => setImmediate(r));
    expect(seen).toEqual([{ topic: 'user', id: 'u1' }, { topic: 'access_key', id: 'k1' }, 'gap']);
    await feed.close();
    expect(listening()).toBe(false);
  });

  it('keeps going when a subscriber throws', async () => {
    const { feed, errors } = feedWithFakeListener();
    const seen: Change[] = [];
    feed.subscribe({ onChange: () => Promise.reject(new Error('boom')), onGap: () => {} });
    feed.subscribe({ onChange: (c) => void seen.push(c), onGap: () => {} });
    await feed.applyLocally([{ topic: 'bedrock_key', id: 'k2' }]);
    expect(seen).toEqual([{ topic: 'bedrock_key', id: 'k2' }]);
    expect(errors).toEqual(['applying a bedrock_key change']);
  });
});
