/**
 * The fake upstream, run as its own process: Anthropic's Messages API and Bedrock Runtime's
 * streaming operations on one 127.0.0.1 port, every answer from precomputed bytes.
 *
 *   POST /v1/messages                 SSE when the body has "stream":true, else JSON at once
 *   POST /v1/messages?bench=long      SSE paced like a long answer (BENCH_LONG_DELTAS, BENCH_LONG_MS)
 *   POST /model/{id}/invoke-with-response-stream | converse-stream   AWS event stream, paced
 *
 * Prints `{"port":N}` on stdout once listening.
 */
import { createServer, type ServerResponse } from 'node:http';
import { listenForBench } from './bench-server.ts';
import { anthropicJson, anthropicSse, bedrockConverseStream, bedrockInvokeStream, type PacedStream } from './upstream-bytes.ts';

const DELTAS = Number(process.env.BENCH_DELTAS ?? 20);
const DELTA_MS = Number(process.env.BENCH_DELTA_MS ?? 5);
const LONG_DELTAS = Number(process.env.BENCH_LONG_DELTAS ?? 30);
const LONG_MS = Number(process.env.BENCH_LONG_MS ?? 1000);

const sse = anthropicSse(DELTAS);
const longSse = anthropicSse(LONG_DELTAS);
const json = anthropicJson(DELTAS);
const invoke = bedrockInvokeStream(DELTAS);
const converse = bedrockConverseStream(DELTAS);

const STREAM_FLAG = Buffer.from('"stream":true');
const SSE_HEADERS = { 'content-type': 'text/event-stream; charset=utf-8', 'cache-control': 'no-cache', 'request-id': 'req_bench_fake' };
const JSON_HEADERS = { 'content-type': 'application/json', 'content-length': String(json.length), 'request-id': 'req_bench_fake' };
const EVENT_STREAM_HEADERS = { 'content-type': 'application/vnd.amazon.eventstream', 'x-amzn-requestid': '00000000-0000-4000-8000-000000000000' };
const NOT_FOUND = Buffer.from('{"type":"error","error":{"type":"not_found_error","message":"Not Found"}}');

function pace(res: ServerResponse, headers: Record<string, string>, stream: PacedStream, everyMs: number): void {
  res.writeHead(200, headers);
  res.write(stream.head);
  let next = 0;
  const timer = setInterval(() => {
    if (res.destroyed) return clearInterval(timer);
    const delta = stream.deltas[next++]!;
    if (next < stream.deltas.length) {
      res.write(delta);
      return;
    }
    clearInterval(timer);
    res.end(Buffer.concat([delta, stream.tail]));
  }, everyMs);
  res.once('close', () => clearInterval(timer));
}

const server = createServer((req, res) => {
  const chunks: Buffer[] = [];
  req.on('data', (c: Buffer) => chunks.push(c));
  req.on('end', () => {
    const url = req.url ?? '/';
    if (url.startsWith('/v1/messages')) {
      const body = chunks.length === 1 ? chunks[0]! : Buffer.concat(chunks);
      if (body.indexOf(STREAM_FLAG) === -1) {
        res.writeHead(200, JSON_HEADERS);
        res.end(json);
      } else if (url.includes('bench=long')) {
        pace(res, SSE_HEADERS, longSse, LONG_MS);
      } else {
        pace(res, SSE_HEADERS, sse, DELTA_MS);
      }
    } else if (url.startsWith('/model/') && url.endsWith('/invoke-with-response-stream')) {
      pace(res, { ...EVENT_STREAM_HEADERS, 'x-amzn-bedrock-content-type': 'application/json' }, invoke, DELTA_MS);
    } else if (url.startsWith('/model/') && url.endsWith('/converse-stream')) {
      pace(res, EVENT_STREAM_HEADERS, converse, DELTA_MS);
    } else {
      res.writeHead(404, { 'content-type': 'application/json', 'content-length': String(NOT_FOUND.length) });
      res.end(NOT_FOUND);
    }
  });
});
listenForBench(server);
