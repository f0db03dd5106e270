/**
 * Anthropic's SSE framing (docs/upstream-apis.md §1.6): `event: <type>\ndata: <json>\n\n`, where the JSON's
 * `type` equals the event name. Translators hand back `SseEvent`s whose `data` is already JSON
 * text, so an event passed through from Bedrock is written without being re-serialised.
 */

import type { AnthropicStreamEvent } from './wire.ts';

export interface SseEvent {
  event: string;
  /** JSON text of the event object. */
  data: string;
}

export function sseEventOf(event: AnthropicStreamEvent): SseEvent {
  return { event: event.type, data: JSON.stringify(event) };
}

/** One event as it goes on the wire. */
export function formatSseEvent(event: SseEvent): string {
  return `event: ${event.event}\ndata: ${event.data}\n\n`;
}

export interface SseParser {
  /** Feeds bytes or text; returns the events completed by them. */
  push(chunk: Uint8Array | string): SseEvent[];
  /** Ends the input; returns a last event left without its blank line, if any. */
  end(): SseEvent[];
}

/**
 * Incremental SSE reader (WHATWG rules: `\n`, `\r\n` or `\r` line ends, several `data:` lines
 * joined by `\n`, `:` comments ignored). An event without an `event:` line takes the name
 * `message`. Used for Bedrock's Messages endpoint, which answers in Anthropic SSE.
 */
export function createSseParser(): SseParser {
  const decoder = new TextDecoder();
  let buffer = '';
  let eventName = '';
  let data: string[] = [];
  let sawCarriageReturn = false;

  function dispatch(out: SseEvent[]): void {
    if (data.length > 0) out.push({ event: eventName || 'message', data: data.join('\n') });
    eventName = '';
    data = [];
  }

  function line(text: string, out: SseEvent[]): void {
    if (text === '') return dispatch(out);
    if (text.startsWith(':')) return;
    const colon = text.indexOf(':');
    const name = colon === -1 ? text : text.slice(0, colon);
    let value = colon === -1 ? '' : text.slice(colon + 1);
    if (value.startsWith(' ')) value = value.slice(1);
    if (name === 'event') eventName = value;
    else if (name === 'data') data.push(value);
  }

  function drain(out: SseEvent[]): void {
    let start = 0;
    for (let i = 0; i < buffer.length; i++) {
      const ch = buffer.charCodeAt(i);
      if (ch === 10 /* \n */) {
        if (sawCarriageReturn && i === start) {
          // second half of a \r\n split across lines already handled
          sawCarriageReturn = false;
          start = i + 1;
          continue;
        }
        line(buffer.slice(start, i), out);
        start = i + 1;
        sawCarriageReturn = false;
      } else if (ch === 13 /* \r */) {
        line(buffer.slice(start, i), out);
        start = i + 1;
        sawCarriageReturn = true;
      } else {
        sawCarriageReturn = false;
      }
    }
    buffer = buffer.slice(start);
  }

  return {
    push(chunk) {
      buffer += typeof chunk === 'string' ? chunk : decoder.decode(chunk, { stream: true });
      const out: SseEvent[] = [];
      drain(out);
      return out;
    },
    end() {
      buffer += decoder.decode();
      const out: SseEvent[] = [];
      drain(out);
      if (buffer !== '') line(buffer, out);
      buffer = '';
      dispatch(out);
      return out;
    },
  };
}
