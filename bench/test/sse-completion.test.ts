import { describe, expect, it } from 'vitest';
import { SseCompletion } from '../src/sse-completion.ts';
import { anthropicSse } from '../src/upstream-bytes.ts';

const feed = (chunks: Array<string | Buffer>) => {
  const check = new SseCompletion();
  for (const c of chunks) check.push(Buffer.isBuffer(c) ? c : Buffer.from(c));
  return check;
};

describe('SseCompletion', () => {
  it('a whole stream is complete', () => {
    const s = anthropicSse(3);
    expect(feed([s.head, ...s.deltas, s.tail]).complete).toBe(true);
  });

  it('a stream cut before message_stop is not', () => {
    const s = anthropicSse(3);
    expect(feed([s.head, ...s.deltas]).complete).toBe(false);
  });

  it('finds message_stop split across chunks at every position', () => {
    const text = 'event: ping\ndata: {}\n\nevent: message_stop\ndata: {"type":"message_stop"}\n\n';
    for (let cut = 1; cut < text.length; cut++) {
      expect(feed([text.slice(0, cut), text.slice(cut)]).complete, `cut at ${cut}`).toBe(true);
    }
  });

  it('finds it when it arrives one byte at a time', () => {
    expect(feed([...'event: message_stop\n\n']).complete).toBe(true);
  });

  it('an error event makes the stream failed, even if message_stop follows', () => {
    const check = feed(['event: error\ndata: {"type":"error","error":{"type":"overloaded_error"}}\n\n', 'event: message_stop\ndata: {}\n\n']);
    expect(check.errored).toBe(true);
    expect(check.complete).toBe(false);
  });

  it('the text "message_stop" inside a delta is not the event', () => {
    expect(feed(['event: content_block_delta\ndata: {"delta":{"text":"message_stop"}}\n\n']).complete).toBe(false);
  });
});
