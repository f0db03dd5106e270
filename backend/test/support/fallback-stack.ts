import { startFakeAnthropic, type FakeAnthropic } from '../fakes/anthropic.ts';
import { startFakeBedrock, type FakeBedrock } from '../fakes/bedrock.ts';
import { startTestApp, type TestApp } from './app.ts';

export interface FallbackStack {
  anthropic: FakeAnthropic;
  bedrock: FakeBedrock;
  proxy: TestApp;
  key: { rawKey: string; userId: string; accessKeyId: string };
  /** `ANTHROPIC_BASE_URL` for the key: `<proxy>/ak/<key>`. */
  baseUrl: string;
  close(): Promise<void>;
}

/**
 * The proxy between the fake Anthropic and the fake Bedrock (us-east-1), with one `plan_first` key
 * that has a Bedrock API key. The breaker never opens unless `env` says so, so each test decides
 * per request which upstream answers.
 */
export async function startFallbackStack(env: Record<string, string> = {}): Promise<FallbackStack> {
  const anthropic = await startFakeAnthropic();
  const bedrock = await startFakeBedrock();
  const proxy = await startTestApp({ PLAN_API_URL: anthropic.url, BEDROCK_ENDPOINT: bedrock.url, BEDROCK_REGION: 'us-east-1', CIRCUIT_FAILURE_THRESHOLD: '100', ...env });
  const key = await proxy.createKey();
  await proxy.registerBedrockKey(key.accessKeyId);
  return {
    anthropic,
    bedrock,
    proxy,
    key,
    baseUrl: `${proxy.url}/ak/${key.rawKey}`,
    async close() {
      await proxy.close();
      await anthropic.close();
      await bedrock.close();
    },
  };
}
