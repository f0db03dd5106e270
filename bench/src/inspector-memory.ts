/**
 * `--heap`: the proxy's own `process.memoryUsage()` (V8 heap used, external, array buffers), read
 * through the inspector the proxy is then started with (`--inspect=127.0.0.1:<port>`), since the
 * proxy exposes no such endpoint. Only the bench's long-streams report uses it.
 */
import { request, WebSocket } from 'undici';

export interface HeapFigures {
  heapUsedMb: number;
  heapTotalMb: number;
  externalMb: number;
  arrayBuffersMb: number;
}

/** Evaluates process.memoryUsage() in the process listening for the inspector on `port`. */
export async function heapOf(port: number): Promise<HeapFigures> {
  const list = await request(`http://127.0.0.1:${port}/json/list`);
  const [target] = (await list.body.json()) as Array<{ webSocketDebuggerUrl: string }>;
  if (!target) throw new Error(`no inspector target on port ${port}`);
  const ws = new WebSocket(target.webSocketDebuggerUrl);
  try {
    await new Promise<void>((resolve, reject) => {
      ws.addEventListener('open', () => resolve(), { once: true });
      ws.addEventListener('error', () => reject(new Error('inspector: could not connect')), { once: true });
    });
    const answer = new Promise<string>((resolve, reject) => {
      ws.addEventListener('message', (event) => {
        const message = JSON.parse(String(event.data)) as { id?: number; result?: { result?: { value?: string } } };
        if (message.id !== 1) return;
        const value = message.result?.result?.value;
        if (value) resolve(value);
        else reject(new Error(`inspector: no value in ${String(event.data).slice(0, 200)}`));
      });
    });
    ws.send(JSON.stringify({ id: 1, method: 'Runtime.evaluate', params: { expression: 'JSON.stringify(process.memoryUsage())', returnByValue: true } }));
    const usage = JSON.parse(await answer) as { heapUsed: number; heapTotal: number; external: number; arrayBuffers: number };
    const mb = (bytes: number) => bytes / 1024 / 1024;
    return { heapUsedMb: mb(usage.heapUsed), heapTotalMb: mb(usage.heapTotal), externalMb: mb(usage.external), arrayBuffersMb: mb(usage.arrayBuffers) };
  } finally {
    ws.close();
  }
}
