import { Transform, type Readable } from 'node:stream';
import type { ProxyError } from '../anthropic/errors.ts';
import { proxyError } from './errors.ts';

/**
 * Request bodies of authenticated proxy requests (unknown keys are refused before any body is read)
 * come in under three bounds, so no client can exhaust a task: the bytes buffered across all
 * requests (a body stays in memory until its request ends), the bodies one access key sends at
 * once, and a minimum rate once a grace period has passed (a body trickling a byte every few
 * seconds is cut, whatever resets the load balancer's idle timer).
 */
export interface BodyIntake {
  /** Starts reading a body, or says why it must be refused before a byte is read. */
  start(accessKeyId: string, declaredBytes: number | null): ProxyError | BodyReading;
  /** Bytes of request bodies held now. */
  readonly bufferedBytes: number;
}

export interface BodyReading {
  /** The body as it arrives, counted; it fails with the error to answer when a bound is crossed. */
  wrap(body: Readable): Readable;
  /** The request is over: its bytes no longer count. Idempotent. */
  release(): void;
}

export interface BodyIntakeOptions {
  maxBufferedBytes: number;
  maxUploadsPerKey: number;
  /** Below this average rate, after `graceMs`, a body is cut. */
  minBytesPerSecond: number;
  graceMs: number;
  /** How often a body's rate is checked. */
  checkEveryMs?: number;
  now?: () => number;
}

export function createBodyIntake(options: BodyIntakeOptions): BodyIntake {
  const now = options.now ?? Date.now;
  const checkEvery = options.checkEveryMs ?? Math.min(5_000, options.graceMs);
  let buffered = 0;
  const uploads = new Map<string, number>();
  const endUpload = (key: string) => {
    const n = (uploads.get(key) ?? 1) - 1;
    if (n > 0) uploads.set(key, n);
    else uploads.delete(key);
  };
  // Bodies still arriving, checked for their rate by one timer for all of them (not one per request).
  const arriving = new Set<{ startedAt: number; bytes: () => number; cut: (error: ProxyError) => void }>();
  const tooSlow = () => proxyError('PROXY_BODY_TOO_SLOW', Math.round(options.minBytesPerSecond / 1024));
  setInterval(() => {
    const t = now();
    for (const body of arriving) {
      const elapsed = t - body.startedAt;
      if (elapsed >= options.graceMs && body.bytes() < (options.minBytesPerSecond * elapsed) / 1000) body.cut(tooSlow());
    }
  }, checkEvery).unref();

  return {
    get bufferedBytes() {
      return buffered;
    },
    start(accessKeyId, declaredBytes) {
      if ((uploads.get(accessKeyId) ?? 0) >= options.maxUploadsPerKey) return proxyError('PROXY_KEY_UPLOADS', options.maxUploadsPerKey);
      const budgetMb = Math.round(options.maxBufferedBytes / 1024 / 1024);
      if (declaredBytes !== null && buffered + declaredBytes > options.maxBufferedBytes) return proxyError('PROXY_BODY_BUDGET', budgetMb);
      uploads.set(accessKeyId, (uploads.get(accessKeyId) ?? 0) + 1);
      let held = 0;
      let released = false;
      let watched: { startedAt: number; bytes: () => number; cut: (error: ProxyError) => void } | undefined;
      let uploading = true;
      const finishUpload = () => {
        if (watched) arriving.delete(watched);
        if (uploading) endUpload(accessKeyId);
        uploading = false;
      };
      return {
        wrap(body) {
          const counted = new Transform({
            transform(chunk: Buffer, _encoding, done) {
              if (released) return done();
              held += chunk.length;
              buffered += chunk.length;
              if (buffered > options.maxBufferedBytes) return done(proxyError('PROXY_BODY_BUDGET', budgetMb));
              done(null, chunk);
            },
            flush(done) {
              finishUpload();
              done();
            },
          });
          watched = { startedAt: now(), bytes: () => held, cut: (error) => counted.destroy(error) };
          arriving.add(watched);
          counted.once('close', finishUpload);
          body.once('error', (err) => counted.destroy(err));
          return body.pipe(counted);
        },
        release() {
          if (released) return;
          released = true;
          finishUpload();
          buffered -= held;
          held = 0;
        },
      };
    },
  };
}
