import { describe, expect, it } from 'vitest';
import { createJsonTap, createSseTap } from '../../../src/proxy/sse-tap.ts';
import { cachedUsage, encodeSse, errorEvent, messageToEvents, textMessage, thinkingToolUseMessage } from '../../fakes/anthropic-messages.ts';

function tapWhole(bytes: Buffer) {
  const tap = createSseTap();
  tap.push(bytes);
  return tap.result();
}

function tapSplitAt(bytes: Buffer, ...cuts: number[]) {
  const tap = createSseTap();
  let last = 0;
  for (const cut of [...cuts, bytes.length]) {
    tap.push(bytes.subarray(last, cut));
    last = cut;
  }
  return tap.result();
}

const usage = cachedUsage({ inputTokens: 17, outputTokens: 230, cacheReadTokens: 4096, cacheWrite5mTokens: 512, cacheWrite1hTokens: 64 });
// Non-ASCII text so cuts also land inside multi-byte UTF-8 characters.
const stream = encodeSse(messageToEvents(textMessage({ text: 'héllo wörld — 你好 🌍', usage }), { textChunks: 5, pingEvery: 2 }));
const expected = {
  usage: { inputTokens: 17, outputTokens: 230, cacheReadTokens: 4096, cacheWrite5mTokens: 512, cacheWrite1hTokens: 64 },
  stopReason: 'end_turn',
  completed: true,
  errorType: undefined,
};

describe('SSE usage tap', () => {
  it('reads usage from message_start merged with the cumulative message_delta', () => {
    expect(tapWhole(stream)).toMatchObject(expected);
    expect(tapWhole(stream).model).toBe('claude-opus-5-5');
  });

  it('gives the same result for the stream split at every byte boundary', () => {
    for (let cut = 1; cut < stream.length; cut++) {
      expect(tapSplitAt(stream, cut), `cut at ${cut}`).toEqual(tapWhole(stream));
    }
  });

  it('gives the same result for the stream fed one byte at a time', () => {
    const cuts = Array.from({ length: stream.length - 1 }, (_, i) => i + 1);
    expect(tapSplitAt(stream, ...cuts)).toEqual(tapWhole(stream));
  });

  it('understands CRLF line endings at every split', () => {
    const crlf = Buffer.from(stream.toString('utf8').replaceAll('\n', '\r\n'));
    expect(tapWhole(crlf)).toMatchObject(expected);
    for (let cut = 1; cut < crlf.length; cut += 7) expect(tapSplitAt(crlf, cut), `cut at ${cut}`).toMatchObject(expected);
  });

  it('records the stop reason of a tool-use turn with thinking', () => {
    const bytes = encodeSse(messageToEvents(thinkingToolUseMessage(), { jsonChunks: 4 }));
    expect(tapWhole(bytes)).toMatchObject({ stopReason: 'tool_use', completed: true });
  });

  it('notices an error event and a stream that never stopped', () => {
    const events = [...messageToEvents(textMessage({ usage })).slice(0, 3), errorEvent('overloaded_error', 'Overloaded')];
    const result = tapWhole(encodeSse(events));
    expect(result).toMatchObject({ errorType: 'overloaded_error', completed: false });
    expect(result.usage.inputTokens).toBe(17);
  });

  it('knows whether the bytes so far end between events', () => {
    const tap = createSseTap();
    const half = stream.indexOf('\n\n') + 1;
    tap.push(stream.subarray(0, half));
    expect(tap.atEventBoundary()).toBe(false);
    tap.push(stream.subarray(half, half + 1));
    expect(tap.atEventBoundary()).toBe(true);
  });

  it('keeps a known 1h cache split when message_delta reports only the total', () => {
    const events = [
      { event: 'message_start', data: { type: 'message_start', message: { model: 'm', usage: { input_tokens: 5, cache_creation_input_tokens: 300, cache_creation: { ephemeral_5m_input_tokens: 100, ephemeral_1h_input_tokens: 200 }, output_tokens: 1 } } } },
      { event: 'message_delta', data: { type: 'message_delta', delta: { stop_reason: 'end_turn' }, usage: { output_tokens: 9, cache_creation_input_tokens: 300 } } },
    ];
    expect(tapWhole(encodeSse(events)).usage).toEqual({ inputTokens: 5, outputTokens: 9, cacheReadTokens: 0, cacheWrite5mTokens: 100, cacheWrite1hTokens: 200 });
  });

  it('ignores events it cannot parse', () => {
    const result = tapWhole(Buffer.from('event: message_start\ndata: {not json\n\n: comment\n\nevent: message_stop\ndata: {"type":"message_stop"}\n\n'));
    expect(result.completed).toBe(true);
    expect(result.usage.inputTokens).toBe(0);
  });

  it('decodes only the events it records, chosen by their event name', () => {
    const delta = '{"type":"message_delta","delta":{"stop_reason":"max_tokens"},"usage":{"output_tokens":99}}';
    const bytes = Buffer.from(
      `event: content_block_delta\ndata: ${delta}\n\nevent: ping\ndata: ${delta}\n\nevent: error_like\ndata: ${delta}\n\n` +
        `event: message_delta\ndata: {"type":"message_delta","delta":{"stop_reason":"end_turn"},"usage":{"output_tokens":7}}\n\n`,
    );
    expect(tapWhole(bytes)).toMatchObject({ stopReason: 'end_turn', usage: { outputTokens: 7 } });
  });
});

describe('JSON usage tap', () => {
  it('reads usage, model and stop reason from a non-streaming body split anywhere', () => {
    const body = Buffer.from(JSON.stringify(textMessage({ usage })));
    for (const cut of [1, 10, body.length - 1]) {
      const tap = createJsonTap();
      tap.push(body.subarray(0, cut));
      tap.push(body.subarray(cut));
      expect(tap.result()).toMatchObject(expected);
    }
  });

  it('reads the error type of an error body', () => {
    const tap = createJsonTap();
    tap.push(Buffer.from('{"type":"error","error":{"type":"rate_limit_error","message":"slow down"}}'));
    expect(tap.result().errorType).toBe('rate_limit_error');
  });
});
