// Loaded into Portkey's gateway with `node --import` (plain JavaScript: Portkey runs without tsx).
//
// 1. Portkey 1.15.2 sets headers on the Response that fetch() returned; on Node 20 those headers
//    are immutable ("TypeError: immutable"). Hand it a copy whose headers it may change.
// 2. Its server listens on every interface and takes no host option: keep it on 127.0.0.1.
import net from 'node:net';

const originalFetch = globalThis.fetch;
globalThis.fetch = async (input, init) => {
  const response = await originalFetch(input, init);
  return new Response(response.body, { status: response.status, statusText: response.statusText, headers: new Headers(response.headers) });
};

const originalListen = net.Server.prototype.listen;
net.Server.prototype.listen = function listen(...args) {
  if (typeof args[0] === 'number') return originalListen.call(this, args[0], '127.0.0.1', ...args.slice(1).filter((a) => typeof a === 'function'));
  if (args[0] && typeof args[0] === 'object' && 'port' in args[0]) return originalListen.call(this, { ...args[0], host: '127.0.0.1' }, ...args.slice(1));
  return originalListen.apply(this, args);
};
