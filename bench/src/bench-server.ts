/** How the bench's own servers (fake upstream, floor) listen: one place for their socket settings. */
import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';

/**
 * Keep-alive connections from the load generator and the gateways outlive any scenario's pauses;
 * a deep accept queue, so 1,000 connections opened at once do not wait for SYN retransmits. The
 * port is printed as one JSON line on stdout for the runner.
 */
export function listenForBench(server: Server): void {
  server.keepAliveTimeout = 120_000;
  server.headersTimeout = 0;
  server.requestTimeout = 0;
  server.maxRequestsPerSocket = 0;
  server.listen({ port: 0, host: '127.0.0.1', backlog: 4096 }, () => {
    process.stdout.write(`${JSON.stringify({ port: (server.address() as AddressInfo).port })}\n`);
  });
  process.on('SIGTERM', () => process.exit(0));
  process.on('SIGINT', () => process.exit(0));
}
