import { Agent } from 'undici';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { describe, expect, it, vi } from 'vitest';
import { Cancellation } from '../../../src/proxy/cancellation.ts';

describe('request cancellation', () => {
  it('tells its listeners once, and aborts a standard signal taken before or after', () => {
    const cancel = new Cancellation();
    const listener = vi.fn();
    cancel.once('abort', listener);
    const before = cancel.signal;
    expect(before.aborted).toBe(false);
    cancel.abort();
    cancel.abort();
    expect(cancel.aborted).toBe(true);
    expect(listener).toHaveBeenCalledTimes(1);
    expect(before.aborted).toBe(true);
    expect(new Cancellation().signal.aborted).toBe(false);
    const late = new Cancellation();
    late.abort();
    expect(late.signal.aborted).toBe(true);
  });

  it('stops an undici request it is given as the signal', async () => {
    const server = createServer((_req, res) => res.writeHead(200).write('first')); // never ends
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    const agent = new Agent();
    try {
      const cancel = new Cancellation();
      const res = await agent.request({ origin: `http://127.0.0.1:${(server.address() as AddressInfo).port}`, path: '/', method: 'GET', signal: cancel });
      const read = (async () => {
        for await (const _chunk of res.body) cancel.abort();
      })();
      await expect(read).rejects.toMatchObject({ name: 'AbortError' });
      expect(cancel.listenerCount('abort')).toBe(0); // undici let go of its listener
    } finally {
      await agent.close();
      server.closeAllConnections();
      server.close();
    }
  });
});
