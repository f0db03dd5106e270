import { describe, expect, it } from 'vitest';
import { createSseParser, formatSseEvent, sseEventOf } from '../../../src/anthropic/sse.ts';

describe('formatSseEvent', () => {
  it('writes the event line, the data line and a blank line', () => {
    expect(formatSseEvent(sseEventOf({ type: 'message_stop' }))).toBe('event: message_stop\ndata: {"type":"message_stop"}\n\n');
  });
});

describe('createSseParser', () => {
  const text =
    'event: message_start\ndata: {"type":"message_start"}\n\n' +
    ': keep-alive comment\n\n' +
    'event: ping\r\ndata: {"type":"ping"}\r\n\r\n' +
    'data: {"a":1}\ndata: {"b":2}\n\n' +
    'event: message_stop\rdata: {"type":"message_stop"}\r\r';
  const expected = [
    { event: 'message_start', data: '{"type":"message_start"}' },
    { event: 'ping', data: '{"type":"ping"}' },
    { event: 'message', data: '{"a":1}\n{"b":2}' },
    { event: 'message_stop', data: '{"type":"message_stop"}' },
  ];

  it.each([1, 2, 3, 7, 64, text.length])('reads the same events whatever the chunk size (%i)', (size) => {
    const parser = createSseParser();
    const bytes = Buffer.from(text);
    const events = [];
    for (let i = 0; i < bytes.length; i += size) events.push(...parser.push(bytes.subarray(i, i + size)));
    events.push(...parser.end());
    expect(events).toEqual(expected);
  });

  it('keeps multi-byte characters split across chunks', () => {
    const parser = createSseParser();
    const bytes = Buffer.from('event: x\ndata: "héllo 👋"\n\n');
    const events = [...parser.push(bytes.subarray(0, 19)), ...parser.push(bytes.subarray(19)), ...parser.end()];
    expect(events).toEqual([{ event: 'x', data: '"héllo 👋"' }]);
  });

  it('emits a last event left without its blank line at end', () => {
    const parser = createSseParser();
    expect(parser.push('event: a\ndata: 1')).toEqual([]);
    expect(parser.end()).toEqual([{ event: 'a', data: '1' }]);
  });
});
