/**
 * The load generator, run as its own process (so its CPU is not the proxy's): takes one LoadSpec
 * at a time over IPC and drives it through an undici Pool with one keep-alive connection per
 * concurrent request. Handlers use undici's dispatch API directly (no stream objects per
 * response), so the generator stays cheap next to what it measures.
 */
import { Pool } from 'undici';
import type { Dispatcher } from 'undici';
import type { FromLoadgen, LoadResult, LoadSpec, ToLoadgen } from './load-protocol.ts';
import { SseCompletion } from './sse-completion.ts';

function send(message: FromLoadgen): void {
  process.send?.(message);
}

interface Outcome {
  ok: boolean;
  /** 200 but not whole. */
  incomplete: boolean;
  reason: string | undefined;
  startedAt: number;
  endedAt: number;
  ttfb: number;
  maxGap: number;
}

function once(pool: Pool, spec: LoadSpec, body: Buffer, onFirstByte?: () => void): Promise<Outcome> {
  return new Promise((resolve) => {
    const startedAt = performance.now();
    let status = 0;
    let firstAt = 0;
    let lastAt = 0;
    let maxGap = 0;
    let bytes = 0;
    const sse = spec.check === 'sse' ? new SseCompletion() : undefined;
    let settled = false;
    const finish = (reason: string | undefined, transport = false) => {
      if (settled) return;
      settled = true;
      const endedAt = performance.now();
      const statusOk = status === 200 && !transport;
      const whole = statusOk && (sse ? sse.complete : bytes > 0) && reason === undefined;
      const why = whole ? undefined : (reason ?? (status !== 200 ? `status ${status}` : sse?.errored ? 'error event' : sse ? 'no message_stop' : 'empty body'));
      resolve({
        ok: whole,
        incomplete: !whole && status === 200,
        reason: why,
        startedAt,
        endedAt,
        ttfb: firstAt ? firstAt - startedAt : NaN,
        maxGap,
      });
    };
    const handler: Dispatcher.DispatchHandler = {
      // Its presence is what makes undici treat this as a new-style (v7) handler.
      onRequestStart() {},
      onResponseStart(_controller, statusCode) {
        status = statusCode;
      },
      onResponseData(_controller, chunk) {
        const now = performance.now();
        if (firstAt === 0) {
          firstAt = now;
          onFirstByte?.();
        } else if (now - lastAt > maxGap) maxGap = now - lastAt;
        lastAt = now;
        bytes += chunk.length;
        sse?.push(chunk);
      },
      onResponseEnd() {
        finish(undefined);
      },
      onResponseError(_controller, err) {
        const code = (err as { code?: string }).code;
        finish(code ?? err.message, status === 0);
      },
    };
    pool.dispatch({ origin: spec.origin, path: spec.path, method: 'POST', headers: spec.headers, body }, handler);
  });
}

async function run(id: number, spec: LoadSpec): Promise<LoadResult> {
  const body = Buffer.from(spec.body);
  const headers = { ...spec.headers, 'content-length': String(body.length) };
  const pool = new Pool(spec.origin, {
    connections: spec.concurrency,
    pipelining: 1,
    keepAliveTimeout: 60_000,
    keepAliveMaxTimeout: 60_000,
    headersTimeout: 120_000,
    bodyTimeout: 120_000,
    connect: { timeout: 60_000 },
  });
  const withHeaders = { ...spec, headers };
  const result: LoadResult = { windowMs: 0, completedInWindow: 0, started: 0, latencies: [], ttfbs: [], maxGaps: [], errors: 0, incomplete: 0, reasons: {} };
  // Requests sent and not yet settled, so that none goes uncounted when the run is cut short.
  let unsettled = 0;
  // once: tell the runner when every stream is open (it may measure something else against them).
  let firstBytes = 0;
  const onFirstByte =
    spec.mode === 'once'
      ? () => {
          if (++firstBytes === spec.concurrency) send({ type: 'window', id, phase: 'opened' });
        }
      : undefined;
  const send1 = () => {
    unsettled++;
    return once(pool, withHeaders, body, onFirstByte).finally(() => unsettled--);
  };
  const record = (o: Outcome, inWindow: boolean) => {
    if (o.reason) result.reasons[o.reason] = (result.reasons[o.reason] ?? 0) + 1;
    if (o.incomplete) result.incomplete++;
    else if (!o.ok) result.errors++;
    if (o.ok && inWindow) {
      result.latencies.push(o.endedAt - o.startedAt);
      result.ttfbs.push(o.ttfb);
      if (spec.mode === 'once') result.maxGaps.push(o.maxGap);
    }
  };

  const start = performance.now();
  let inFlight: Promise<void>[] = [];
  if (spec.mode === 'once') {
    send({ type: 'window', id, phase: 'start' });
    inFlight = Array.from({ length: spec.concurrency }, () => send1().then((o) => record(o, true)));
    result.started = spec.concurrency;
  } else {
    const windowStart = start + spec.warmupMs;
    const windowEnd = windowStart + spec.durationMs;
    const worker = async () => {
      for (;;) {
        const now = performance.now();
        if (now >= windowEnd) return;
        const inWindow = now >= windowStart;
        if (inWindow) result.started++;
        const o = await send1();
        if (o.ok && o.endedAt >= windowStart && o.endedAt <= windowEnd) result.completedInWindow++;
        record(o, inWindow);
      }
    };
    inFlight = Array.from({ length: spec.concurrency }, worker);
    // Workers only look at the clock between requests: the window's edges are told from here.
    setTimeout(() => send({ type: 'window', id, phase: 'start' }), spec.warmupMs).unref();
    await new Promise((resolve) => setTimeout(resolve, windowEnd - performance.now()));
    send({ type: 'window', id, phase: 'end' });
    result.windowMs = spec.durationMs;
  }

  const all = Promise.all(inFlight).then(() => 'done' as const);
  // once: graceMs from the start; closed: graceMs after the window.
  const timer = new Promise<'late'>((resolve) => setTimeout(resolve, spec.graceMs, 'late').unref());
  const how = await Promise.race([all, timer]);
  if (spec.mode === 'once') {
    send({ type: 'window', id, phase: 'end' });
    result.windowMs = performance.now() - start;
    result.completedInWindow = result.latencies.length;
  }
  if (how === 'late') {
    // Whatever still runs is aborted; those requests count as incomplete (or errors) via their handlers.
    await pool.destroy(new Error(`still running at the deadline (${spec.graceMs / 1000} s after the ${spec.mode === 'once' ? 'start' : 'window'}): aborted`)).catch(() => undefined);
    await Promise.race([all, new Promise((resolve) => setTimeout(resolve, 10_000))]);
    if (unsettled > 0) {
      const reason = 'never settled after the pool was destroyed';
      result.errors += unsettled;
      result.reasons[reason] = (result.reasons[reason] ?? 0) + unsettled;
    }
  } else {
    await pool.close();
  }
  return result;
}

process.on('message', (message: ToLoadgen) => {
  if (message.type !== 'run') return;
  run(message.id, message.spec).then(
    (result) => send({ type: 'result', id: message.id, result }),
    (err: unknown) => send({ type: 'failed', id: message.id, message: err instanceof Error ? err.stack ?? err.message : String(err) }),
  );
});
process.on('disconnect', () => process.exit(0));
send({ type: 'ready' });
