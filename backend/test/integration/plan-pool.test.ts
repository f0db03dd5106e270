// The Plan pool opens as many connections as it is given (app.ts gives it MAX_UPSTREAM_REQUESTS),
// and no more: a call beyond them waits for a connection rather than opening another.
import { createServer, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, expect, it, vi } from 'vitest';
import { createPlanUpstream } from '../../src/proxy/plan-upstream.ts';

const held: ServerResponse[] = [];
let connections = 0;
const server = createServer((_req, res) => held.push(res));
server.on('connection', () => connections++);

beforeAll(() => new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve)));
afterAll(() => new Promise<void>((resolve) => server.close(() => resolve())));

it('holds one connection per call up to its size, then queues', async () => {
  const { port } = server.address() as AddressInfo;
  const plan = createPlanUpstream({ baseUrl: `http://127.0.0.1:${port}`, firstByteTimeoutMs: 10_000, connections: 3 });
  const controller = new AbortController();
  const calls = Array.from({ length: 5 }, () =>
    plan.send({ path: '/v1/messages', headers: { 'content-type': 'application/json' }, body: Buffer.from('{}'), signal: controller.signal }).catch(() => null),
  );
  await vi.waitFor(() => expect(held).toHaveLength(3));
  await new Promise((resolve) => setTimeout(resolve, 200));
  expect(connections).toBe(3);
  expect(held).toHaveLength(3);

  // One answer frees its connection for a waiting call.
  held[0]!.end('{}');
  await vi.waitFor(() => expect(held).toHaveLength(4));
  expect(connections).toBe(3);

  controller.abort();
  for (const res of held) res.destroy();
  await Promise.all(calls);
  await plan.close();
});
