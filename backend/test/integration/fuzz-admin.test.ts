// Property-based fuzzing of every admin route of /admin/openapi.json (test/fuzz/properties.ts)
// with a fixed seed, so a failure replays; bench/fuzz.ts runs the same property for longer.
import fc from 'fast-check';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { adminRoutesProperty, send, type FuzzTarget } from '../fuzz/properties.ts';
import type { TestApp } from '../support/app.ts';
import { startFuzzStack, type FuzzStack } from '../support/fuzz-stack.ts';

const SEED = 4242;
fc.configureGlobal({ seed: SEED, numRuns: 1500, endOnFailure: true });

let stack: FuzzStack;
let proxy: TestApp;
let target: FuzzTarget;

beforeAll(async () => {
  stack = await startFuzzStack();
  ({ proxy, target } = stack);
});
afterAll(() => stack?.close());

it('every admin route: never a 5xx, errors as {error:{type,message}}, no internal text', { timeout: 60_000 }, async () => {
  expect(target.operations.length).toBeGreaterThanOrEqual(27);
  await fc.assert(adminRoutesProperty(target));
  expect((await send(proxy.url, { method: 'GET', path: '/health' })).status).toBe(200);
});
