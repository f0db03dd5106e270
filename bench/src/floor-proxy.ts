/**
 * The floor: the least any Node proxy can do here, run as its own process so it is measured like
 * the gateways. A `node:http` server and one undici Agent (the undici the proxy uses, with the
 * proxy's pool settings) that forwards method, path, headers and body to BENCH_UPSTREAM and
 * streams the answer back: status, headers, body. No auth, no accounting, no logging, no parsing.
 * What a gateway adds over this row is what its own work costs.
 *
 * Prints `{"port":N}` on stdout once listening.
 */
import { createServer, type IncomingHttpHeaders, type OutgoingHttpHeaders } from 'node:http';
import { Agent, type Dispatcher } from 'undici';
import { listenForBench } from './bench-server.ts';

const upstream = process.env.BENCH_UPSTREAM;
if (!upstream) throw new Error('BENCH_UPSTREAM is not set');
const origin = new URL(upstream).origin;

// As backend/src/proxy/plan-upstream.ts configures its agent, so the floor pools connections alike.
const agent = new Agent({ keepAliveTimeout: 30_000, connections: 1024, headersTimeout: 120_000, bodyTimeout: 300_000 });

/** Per-hop headers (RFC 9110 §7.6.1), which a proxy does not forward. */
const HOP_BY_HOP = new Set(['connection', 'keep-alive', 'proxy-connection', 'transfer-encoding', 'te', 'trailer', 'upgrade', 'host']);

function forwardable(headers: IncomingHttpHeaders | Record<string, string | string[] | undefined>): Record<string, string | string[]> {
  const out: Record<string, string | string[]> = {};
  for (const [name, value] of Object.entries(headers)) if (value !== undefined && !HOP_BY_HOP.has(name)) out[name] = value;
  return out;
}

const server = createServer((req, res) => {
  const chunks: Buffer[] = [];
  req.on('data', (c: Buffer) => chunks.push(c));
  req.on('end', () => {
    const body = chunks.length === 1 ? chunks[0]! : Buffer.concat(chunks);
    let upstreamController: Dispatcher.DispatchController | undefined;
    // The client went away before the answer ended: stop reading from upstream.
    res.once('close', () => {
      if (!res.writableFinished) upstreamController?.abort(new Error('client closed'));
    });
    const handler: Dispatcher.DispatchHandler = {
      onRequestStart(controller) {
        upstreamController = controller;
      },
      onResponseStart(controller, statusCode, headers) {
        res.writeHead(statusCode, forwardable(headers) as OutgoingHttpHeaders);
        // Backpressure: a slow client pauses the upstream read instead of buffering here.
        res.on('drain', () => controller.resume());
      },
      onResponseData(controller, chunk) {
        if (!res.write(chunk)) controller.pause();
      },
      onResponseEnd() {
        res.end();
      },
      onResponseError(_controller, err) {
        if (res.headersSent) res.destroy(err);
        else {
          res.writeHead(502, { 'content-type': 'text/plain' });
          res.end(err.message);
        }
      },
    };
    agent.dispatch({ origin, path: req.url ?? '/', method: req.method as Dispatcher.HttpMethod, headers: forwardable(req.headers), body }, handler);
  });
});
listenForBench(server);
