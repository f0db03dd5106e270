import { emptyUsage, mergeAnthropicUsage, type AnthropicUsage, type TokenUsage } from '../anthropic/usage.ts';

/** What a response said about itself, read without changing a byte of it. */
export interface TapResult {
  usage: TokenUsage;
  model: string | undefined;
  stopReason: string | undefined;
  /** `error.type` of an error body or of an SSE `error` event. */
  errorType: string | undefined;
  /** A stream's message_stop arrived (a stream without it was cut short). */
  completed: boolean;
}

export interface ResponseTap {
  push(chunk: Buffer): void;
  /** True when the bytes pushed so far end exactly on an SSE event boundary. */
  atEventBoundary(): boolean;
  result(): TapResult;
}

const LF = 0x0a;
const CR = 0x0d;
// Only these events carry what we record; every other event is skipped without being decoded.
const WANTED = ['event: message_start', 'event: message_delta', 'event: message_stop', 'event: error'].map((s) => Buffer.from(s));
const MAX_JSON_BODY = 16 * 1024 * 1024;

interface Parsed {
  type?: string;
  message?: { model?: string; usage?: AnthropicUsage };
  delta?: { stop_reason?: string | null };
  usage?: AnthropicUsage;
  model?: string;
  stop_reason?: string | null;
  error?: { type?: string };
}

function newResult(): TapResult {
  return { usage: emptyUsage(), model: undefined, stopReason: undefined, errorType: undefined, completed: false };
}

/** Folds one Anthropic event (or a whole non-streaming body) into the result. */
function absorb(result: TapResult, data: Parsed): void {
  switch (data.type) {
    case 'message_start':
      if (data.message?.model) result.model = data.message.model;
      mergeAnthropicUsage(result.usage, data.message?.usage);
      break;
    case 'message_delta':
      if (data.delta?.stop_reason) result.stopReason = data.delta.stop_reason;
      mergeAnthropicUsage(result.usage, data.usage);
      break;
    case 'message_stop':
      result.completed = true;
      break;
    case 'error':
      result.errorType = data.error?.type ?? 'error';
      break;
    case 'message':
      if (data.model) result.model = data.model;
      if (data.stop_reason) result.stopReason = data.stop_reason;
      mergeAnthropicUsage(result.usage, data.usage);
      result.completed = true;
      break;
  }
}

/**
 * Incremental SSE reader. Chunks may split events, lines or UTF-8 characters anywhere; only the
 * bytes of the current unfinished event are kept.
 */
export function createSseTap(): ResponseTap {
  const result = newResult();
  let carry: Buffer | undefined;

  function handleEvent(block: Buffer): void {
    if (isNamedEvent(block) && (isSurelyUnwanted(block) || !WANTED.some((w) => startsWith(block, w)))) return;
    let data = '';
    for (const rawLine of block.toString('utf8').split('\n')) {
      const line = rawLine.endsWith('\r') ? rawLine.slice(0, -1) : rawLine;
      if (line.startsWith('data:')) data += (data ? '\n' : '') + line.slice(line.startsWith('data: ') ? 6 : 5);
    }
    if (!data) return;
    try {
      absorb(result, JSON.parse(data) as Parsed);
    } catch {
      // Not JSON: nothing we can count, and the bytes still went to the client untouched.
    }
  }

  return {
    push(chunk) {
      const data = carry ? Buffer.concat([carry, chunk]) : chunk;
      let start = 0;
      for (;;) {
        const end = eventEnd(data, start);
        if (end === -1) break;
        handleEvent(data.subarray(start, end.valueOf()));
        start = end + separatorLength(data, end);
      }
      carry = start < data.length ? Buffer.from(data.subarray(start)) : undefined;
    },
    atEventBoundary: () => carry === undefined,
    result: () => result,
  };
}

/** Index where the event starting at `from` ends (its blank line starts), or -1. Accepts LF and CRLF. */
function eventEnd(data: Buffer, from: number): number {
  let i = data.indexOf(LF, from);
  while (i !== -1) {
    const next = data[i + 1];
    if (next === LF) return data[i - 1] === CR ? i - 1 : i;
    if (next === CR && data[i + 2] === LF) return data[i - 1] === CR ? i - 1 : i;
    i = data.indexOf(LF, i + 1);
  }
  return -1;
}

function separatorLength(data: Buffer, end: number): number {
  let n = 0;
  let i = end;
  // the event's own line ending, then the blank line
  for (let lines = 0; lines < 2; lines++) {
    if (data[i] === CR) {
      i++;
      n++;
    }
    if (data[i] === LF) {
      i++;
      n++;
    }
  }
  return n;
}

/** The block starts with an `event:` line (read without decoding: this runs for every event). */
function isNamedEvent(block: Buffer): boolean {
  return block.length > 6 && block[0] === 0x65 && block[1] === 0x76 && block[2] === 0x65 && block[3] === 0x6e && block[4] === 0x74 && block[5] === 0x3a;
}

/** "event: c…", "event: p…": every wanted name starts with "m" or "e", so most deltas stop at one byte. */
function isSurelyUnwanted(block: Buffer): boolean {
  const first = block[7];
  return block[6] === 0x20 && first !== 0x6d && first !== 0x65;
}

function startsWith(block: Buffer, prefix: Buffer): boolean {
  if (block.length < prefix.length) return false;
  if (block.compare(prefix, 0, prefix.length, 0, prefix.length) !== 0) return false;
  const after = block[prefix.length];
  return after === undefined || after === LF || after === CR || after === 0x20;
}

/** Non-streaming JSON: keep the body (bounded), read it once at the end. */
export function createJsonTap(): ResponseTap {
  const chunks: Buffer[] = [];
  let size = 0;
  let parsed: TapResult | undefined;
  return {
    push(chunk) {
      size += chunk.length;
      if (size <= MAX_JSON_BODY) chunks.push(chunk);
    },
    atEventBoundary: () => true,
    result() {
      if (parsed) return parsed;
      parsed = newResult();
      if (size <= MAX_JSON_BODY && size > 0) {
        try {
          absorb(parsed, JSON.parse(Buffer.concat(chunks).toString('utf8')) as Parsed);
        } catch {
          // not JSON: an upstream error page, counted by status only
        }
      }
      return parsed;
    },
  };
}
