// The fuzz properties of backend/test/fuzz/properties.ts, run long: `node --import tsx bench/fuzz.ts`
// (FUZZ_RUNS per property, default 2000; FUZZ_SEED, default random and printed, to replay a failure).
// The real server in this process on PGlite, fake Anthropic and Bedrock on loopback.

import fc from 'fast-check';
import { startFakeAnthropic } from '../backend/test/fakes/anthropic.ts';
import { startFakeBedrock } from '../backend/test/fakes/bedrock.ts';
import { adminRoutesProperty, fuzzServerEnv, prepareTarget, proxyGatewayProperty, proxyMessagesProperty, send } from '../backend/test/fuzz/properties.ts';
import { startInProcessProxy } from './in-process-proxy.ts';

const runs = Number(process.env.FUZZ_RUNS ?? 2000);
const seed = process.env.FUZZ_SEED ? Number(process.env.FUZZ_SEED) : Math.floor(Math.random() * 2 ** 31);

const anthropic = await startFakeAnthropic();
const bedrock = await startFakeBedrock();
const proxy = await startInProcessProxy(fuzzServerEnv(anthropic.url, bedrock.url));
let failed = false;
try {
  const login = await send(proxy.url, {
    method: 'POST',
    path: '/admin/auth/login',
    headers: { 'content-type': 'application/json' },
    body: Buffer.from(JSON.stringify({ username: 'admin', password: 'bench-password' })),
  });
  const token = (JSON.parse(login.text) as { access_token: string }).access_token;
  const target = await prepareTarget(proxy.url, token);
  console.log(`fuzz: seed ${seed}, ${runs} runs per property, ${target.operations.length} admin operations`);
  // Each property has its own input type: a generic runner per property, not a loop over a mixed list.
  const run = async <T>(name: string, property: fc.IAsyncProperty<[T]>) => {
    const started = performance.now();
    const details = await fc.check(property, { seed, numRuns: runs });
    // The fakes keep every request they saw: forget them between properties.
    anthropic.requests.length = 0;
    bedrock.requests.length = 0;
    const seconds = ((performance.now() - started) / 1000).toFixed(1);
    if (details.failed) {
      failed = true;
      const cause = details.errorInstance instanceof Error ? details.errorInstance.message : String(details.errorInstance);
      console.log(`✗ ${name}: failed after ${details.numRuns} runs in ${seconds} s (seed ${seed}, path ${details.counterexamplePath})\n${cause.slice(0, 2_000)}`);
    } else console.log(`✓ ${name}: ${details.numRuns} runs in ${seconds} s`);
  };
  await run('proxy messages', proxyMessagesProperty(target));
  await run('proxy gateway', proxyGatewayProperty(target));
  await run('admin routes', adminRoutesProperty(target));
} finally {
  await proxy.close();
  await anthropic.close();
  await bedrock.close();
}
process.exitCode = failed ? 1 : 0;
