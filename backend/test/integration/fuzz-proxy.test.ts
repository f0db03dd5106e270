// Property-based fuzzing of the proxy routes (test/fuzz/properties.ts) with a fixed seed, so a
// failure replays; bench/fuzz.ts runs the same properties for longer.
import fc from 'fast-check';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { proxyGatewayProperty, proxyMessagesProperty, send, type FuzzTarget } from '../fuzz/properties.ts';
import type { TestApp } from '../support/app.ts';
import { startFuzzStack, type FuzzStack } from '../support/fuzz-stack.ts';

const SEED = 4242;
fc.configureGlobal({ seed: SEED, numRuns: 600, endOnFailure: true });

let stack: FuzzStack;
let proxy: TestApp;
let target: FuzzTarget;

beforeAll(async () => {
  stack = await startFuzzStack();
  ({ proxy, target } = stack);
});
afterAll(() => stack?.close());

it('POST /v1/messages and count_tokens: never a 5xx, errors in Anthropic\'s shape, no internal text', { timeout: 60_000 }, async () => {
  await fc.assert(proxyMessagesProperty(target));
  // The fakes keep every request: forget them, or a long run holds every body.
  stack.anthropic.requests.length = 0;
  stack.bedrock.requests.length = 0;
  expect((await send(proxy.url, { method: 'GET', path: '/health' })).status).toBe(200);
  // Every request the fuzzer sent still lands in the usage table: no input may fail a batch.
  await Promise.race([proxy.flushUsage(), new Promise((r) => setTimeout(r, 5_000))]);
  expect(proxy.logs.filter((l) => /usage .*failed/.test(String(l.msg))).map((l) => l.msg)).toEqual([]);
});

it('/v1/models, /status and /api/hello: the same', { timeout: 60_000 }, async () => {
  await fc.assert(proxyGatewayProperty(target), { numRuns: 600 });
  expect((await send(proxy.url, { method: 'GET', path: '/health' })).status).toBe(200);
});
