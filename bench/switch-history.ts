/**
 * What a mid-session provider switch adds to a request with ~1 MB of history: the proxy (in this
 * process, on PGlite) in front of the test fakes, each request timed from send to the last byte.
 *
 *   node --import tsx bench/switch-history.ts          (BENCH_ROUNDS=200 BENCH_HISTORY_KB=1024 to vary)
 *
 * - To Anthropic: a history only Anthropic minted goes out as the client's bytes; one holding
 *   Bedrock-minted thinking is cleaned and re-serialised first (the switch back).
 * - To Bedrock (invoke): a history only Bedrock minted is unmarked; one Anthropic minted loses its
 *   thinking, and thinking is off for the request (the switch over). Both are translated anyway.
 * The two kinds of request alternate, so machine noise falls on both alike.
 */

import { request } from 'undici';
import { markBedrock } from '../backend/src/bedrock/thinking-provenance.ts';
import { startFakeAnthropic } from '../backend/test/fakes/anthropic.ts';
import { fakeSignature } from '../backend/test/fakes/anthropic-messages.ts';
import { startFakeBedrock } from '../backend/test/fakes/bedrock.ts';
import { bedrockSignature } from '../backend/test/fakes/thinking-rules.ts';
import { startInProcessProxy } from './in-process-proxy.ts';

const ROUNDS = Number(process.env.BENCH_ROUNDS ?? 200);
const HISTORY_BYTES = Number(process.env.BENCH_HISTORY_KB ?? 1024) * 1024;

type Minter = (turn: number) => string;
const anthropicMinted: Minter = (turn) => fakeSignature(`turn-${turn}`);
const bedrockMinted: Minter = (turn) => markBedrock(bedrockSignature(`turn-${turn}`));
const alternating: Minter = (turn) => (turn % 2 === 0 ? anthropicMinted(turn) : bedrockMinted(turn));

/** A Claude Code-like tool loop of about HISTORY_BYTES, ending in a tool result. */
function body(sign: Minter): string {
  const messages: unknown[] = [{ role: 'user', content: 'Read every file in the project.' }];
  const fileText = 'x'.repeat(8 * 1024);
  for (let turn = 0; JSON.stringify(messages).length < HISTORY_BYTES; turn++) {
    const id = `toolu_${String(turn).padStart(6, '0')}`;
    messages.push(
      {
        role: 'assistant',
        content: [
          { type: 'thinking', thinking: 'The next file.', signature: sign(turn) },
          { type: 'text', text: `Reading file ${turn}.` },
          { type: 'tool_use', id, name: 'Read', input: { file_path: `/p/${turn}.txt` } },
        ],
      },
      { role: 'user', content: [{ type: 'tool_result', tool_use_id: id, content: fileText }] },
    );
  }
  return JSON.stringify({ model: 'claude-opus-5-5', max_tokens: 1024, thinking: { type: 'adaptive' }, stream: true, messages });
}

async function time(url: string, payload: string): Promise<number> {
  const started = performance.now();
  const res = await request(url, { method: 'POST', body: payload, headers: { 'content-type': 'application/json', 'x-api-key': 'sk-bench' } });
  await res.body.text();
  if (res.statusCode !== 200) throw new Error(`HTTP ${res.statusCode}`);
  return performance.now() - started;
}

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;
const p90 = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length * 0.9)]!;

async function compare(name: string, url: string, same: string, switched: string): Promise<void> {
  const a: number[] = [];
  const b: number[] = [];
  for (let i = 0; i < 10; i++) await time(url, i % 2 ? same : switched); // warm-up
  for (let i = 0; i < ROUNDS; i++) {
    a.push(await time(url, same));
    b.push(await time(url, switched));
  }
  const ms = (x: number) => `${x.toFixed(2)} ms`;
  console.log(`${name}: same provider median ${ms(median(a))} (p90 ${ms(p90(a))}); switched median ${ms(median(b))} (p90 ${ms(p90(b))}); added ${ms(median(b) - median(a))}`);
}

/** The proxy with a key for each kind of request; `bedrock` makes it a bedrock_only user with a Bedrock key. */
async function startProxy(env: Record<string, string>) {
  const proxy = await startInProcessProxy(env);
  const key = async (name: string, bedrock: boolean) => {
    const user = await proxy.adminApi('POST', '/admin/users', { name });
    if (bedrock) await proxy.adminApi('PATCH', `/admin/users/${user.id}`, { routing_strategy: 'bedrock_only' });
    const issued = await proxy.adminApi('POST', `/admin/users/${user.id}/access-keys`, {});
    if (bedrock) await proxy.adminApi('PUT', `/admin/access-keys/${issued.id}/bedrock-key`, { bedrock_api_key: 'ABSK-switch-history-bench' });
    return `${proxy.url}/ak/${issued.raw_key}/v1/messages`;
  };
  return { key, close: proxy.close };
}

const anthropic = await startFakeAnthropic();
const bedrock = await startFakeBedrock();
const proxy = await startProxy({ PLAN_API_URL: anthropic.url, BEDROCK_ENDPOINT: bedrock.url, BEDROCK_API: 'invoke' });
try {
  const planUrl = await proxy.key('bench-plan', false);
  const bedrockUrl = await proxy.key('bench-bedrock', true);
  const anthropicOnly = body(anthropicMinted);
  console.log(`history: ${(Buffer.byteLength(anthropicOnly) / 1024).toFixed(0)} KB, ${ROUNDS} requests of each kind`);
  await compare('to Anthropic', planUrl, anthropicOnly, body(alternating));
  await compare('to Bedrock (invoke)', bedrockUrl, body(bedrockMinted), anthropicOnly);
} finally {
  await proxy.close();
  await anthropic.close();
  await bedrock.close();
}
