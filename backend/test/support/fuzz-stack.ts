import { startFakeAnthropic, type FakeAnthropic } from '../fakes/anthropic.ts';
import { startFakeBedrock, type FakeBedrock } from '../fakes/bedrock.ts';
import { fuzzServerEnv, prepareTarget, type FuzzTarget } from '../fuzz/properties.ts';
import { startTestApp, type TestApp } from './app.ts';

export interface FuzzStack {
  anthropic: FakeAnthropic;
  bedrock: FakeBedrock;
  proxy: TestApp;
  /** The keys and admin operations the properties drive. */
  target: FuzzTarget;
  close(): Promise<void>;
}

/** The server the fuzz properties run against: between both fakes, with the target's keys made. */
export async function startFuzzStack(): Promise<FuzzStack> {
  const anthropic = await startFakeAnthropic();
  const bedrock = await startFakeBedrock();
  const proxy = await startTestApp(fuzzServerEnv(anthropic.url, bedrock.url));
  const target = await prepareTarget(proxy.url, await proxy.adminToken());
  return {
    anthropic,
    bedrock,
    proxy,
    target,
    async close() {
      await proxy.close();
      await anthropic.close();
      await bedrock.close();
    },
  };
}
