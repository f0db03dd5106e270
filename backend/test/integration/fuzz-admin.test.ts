// Property-based fuzzing of every admin route of /admin/openapi.json (test/fuzz/properties.ts)
// with a fixed seed, so a failure replays; bench/fuzz.ts runs the same property for longer.
import fc from 'fast-check';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { startFakeAnthropic, type FakeAnthropic } from '../fakes/anthropic.ts';
import { startFakeBedrock, type FakeBedrock } from '../fakes/bedrock.ts';
import { adminRoutesProperty, fuzzServerEnv, prepareTarget, send, type FuzzTarget } from '../fuzz/properties.ts';
import { startTestApp, type TestApp } from '../support/app.ts';

const SEED = 4242;
fc.configureGlobal({ seed: SEED, numRuns: 1500, endOnFailure: true });

let anthropic: FakeAnthropic;
let bedrock: FakeBedrock;
let proxy: TestApp;
let target: FuzzTarget;

beforeAll(async () => {
  anthropic = await startFakeAnthropic();
  bedrock = await startFakeBedrock();
  proxy = await startTestApp(fuzzServerEnv(anthropic.url, bedrock.url));
  target = await prepareTarget(proxy.url, await proxy.adminToken());
});
afterAll(async () => {
  await proxy?.close();
  await anthropic?.close();
  await bedrock?.close();
});

it('every admin route: never a 5xx, errors as {error:{type,message}}, no internal text', { timeout: 60_000 }, async () => {
  expect(target.operations.length).toBeGreaterThanOrEqual(27);
  await fc.assert(adminRoutesProperty(target));
  expect((await send(proxy.url, { method: 'GET', path: '/health' })).status).toBe(200);
});
