/** What each target is sent in each kind of scenario, and the warm-up of a freshly started process. */
import type { LoadSpec } from './load-protocol.ts';
import type { Loadgen } from './loadgen-client.ts';
import type { RunningProxy } from './proxy-process.ts';
import type { Scenario, TargetName } from './scenarios.ts';
import { MODEL } from './upstream-bytes.ts';

export type BedrockApi = RunningProxy['bedrockApi'];

export interface Endpoints {
  upstream: string;
  /** src/floor-proxy.ts, when running. */
  floor: string | undefined;
  /** The proxy per BEDROCK_API: both at once on PostgreSQL; on PGlite (one process per database) one at a time. */
  proxies: Map<BedrockApi, RunningProxy>;
  portkey: string | undefined;
  keys: { plan: string; bedrock: string } | undefined;
}

/** The proxy a scenario goes through: its Bedrock API for the Bedrock scenarios, else the invoke one (any would do). */
export function apiOf(scenario: Pick<Scenario, 'kind'>): BedrockApi {
  return scenario.kind === 'bedrock-converse' ? 'converse' : 'invoke';
}

const ANTHROPIC_HEADERS = { 'content-type': 'application/json', 'x-api-key': 'sk-ant-bench-0000', 'anthropic-version': '2023-06-01' };
const messagesBody = (stream: boolean) =>
  JSON.stringify({ model: MODEL, max_tokens: 1024, ...(stream ? { stream: true } : {}), messages: [{ role: 'user', content: 'Say hello in twenty words.' }] });
const BEDROCK_MODEL = encodeURIComponent('us.anthropic.claude-sonnet-4-5-20250929-v1:0');

function endpoint(target: 'direct' | 'floor', at: Endpoints): string {
  if (target === 'direct') return at.upstream;
  if (!at.floor) throw new Error('the floor is not running');
  return at.floor;
}

export function specFor(scenario: Scenario, target: TargetName, at: Endpoints, warmupMs: number, durationMs: number, proxy = at.proxies.get(apiOf(scenario))): LoadSpec {
  const base = { concurrency: scenario.concurrency, mode: scenario.mode, warmupMs, durationMs, graceMs: scenario.graceMs };
  const stream = scenario.kind !== 'json';
  const viaProxy = (key: string, query = '') => {
    if (!proxy) throw new Error('the proxy is not running');
    return { origin: proxy.url, path: `/ak/${key}/v1/messages${query}`, headers: ANTHROPIC_HEADERS, body: messagesBody(true), check: 'sse' as const };
  };
  if (scenario.kind === 'bedrock-invoke' || scenario.kind === 'bedrock-converse') {
    if (target === 'proxy') return { ...base, ...viaProxy(at.keys!.bedrock) };
    if (target === 'portkey') throw new Error('Portkey is not measured on Bedrock');
    const invoke = scenario.kind === 'bedrock-invoke';
    return {
      ...base,
      // The floor forwards the same Bedrock operation that direct calls.
      origin: endpoint(target, at),
      path: `/model/${BEDROCK_MODEL}/${invoke ? 'invoke-with-response-stream' : 'converse-stream'}`,
      headers: { 'content-type': 'application/json', authorization: 'Bearer ABSK-bench' },
      body: invoke
        ? JSON.stringify({ anthropic_version: 'bedrock-2023-05-31', max_tokens: 1024, messages: [{ role: 'user', content: 'Say hello in twenty words.' }] })
        : JSON.stringify({ messages: [{ role: 'user', content: [{ text: 'Say hello in twenty words.' }] }], inferenceConfig: { maxTokens: 1024 } }),
      // Event-stream frames carry base64 payloads: judged whole by a 200 that ended.
      check: 'body',
    };
  }
  const check = stream ? ('sse' as const) : ('body' as const);
  const body = messagesBody(stream);
  if (scenario.kind === 'long') {
    if (target === 'proxy') return { ...base, ...viaProxy(at.keys!.plan, '?bench=long') };
    if (target === 'portkey') throw new Error('Portkey is not measured on long streams');
    return { ...base, origin: endpoint(target, at), path: '/v1/messages?bench=long', headers: ANTHROPIC_HEADERS, body, check };
  }
  switch (target) {
    case 'direct':
    case 'floor':
      return { ...base, origin: endpoint(target, at), path: '/v1/messages', headers: ANTHROPIC_HEADERS, body, check };
    case 'proxy':
      return { ...base, ...viaProxy(at.keys!.plan), body, check };
    case 'portkey':
      if (!at.portkey) throw new Error('Portkey is not running');
      return {
        ...base,
        origin: at.portkey,
        path: '/v1/messages',
        headers: { ...ANTHROPIC_HEADERS, 'x-portkey-provider': 'anthropic', 'x-portkey-custom-host': `${at.upstream}/v1` },
        body,
        check,
      };
  }
}

/**
 * Unrecorded traffic through a freshly started process (streaming, non-streaming and, for the
 * proxy and the floor, the Bedrock path), so the first scenario does not pay for JIT compilation and caches.
 */
export async function warmUp(loadgen: Loadgen, target: 'floor' | 'proxy' | 'portkey', at: Endpoints, durationMs: number, proxy?: RunningProxy): Promise<void> {
  const kinds: Scenario['kind'][] =
    target === 'proxy' ? ['stream', 'json', proxy?.bedrockApi === 'converse' ? 'bedrock-converse' : 'bedrock-invoke'] : target === 'floor' ? ['stream', 'json', 'bedrock-invoke', 'bedrock-converse'] : ['stream', 'json'];
  for (const kind of kinds) {
    const scenario: Scenario = { id: `warm-up-${kind}`, title: 'warm-up', kind, concurrency: 20, targets: [target], warmupMs: 0, durationMs: 0, graceMs: 5_000, mode: 'closed' };
    await loadgen.run(specFor(scenario, target, at, 0, durationMs, proxy));
  }
}

