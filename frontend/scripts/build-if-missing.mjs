// Builds the dashboard into backend/public. Run by `npm install`/`npm ci` (the workspace's
// `prepare`, with --always) and before `npm start` (only when no build is there yet), so a newcomer
// never needs a separate step. It steps aside, with a note, where a build cannot happen: an
// install without dev dependencies (no Vite) or with the manifests only (a Docker layer, no sources).
import { existsSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const built = join(root, '..', 'backend', 'public', 'index.html');
const always = process.argv.includes('--always');

if (!always && existsSync(built)) process.exit(0);
if (!existsSync(join(root, 'index.html'))) {
  console.log('dashboard: no sources here (manifests only); not built');
  process.exit(0);
}
let vite;
try {
  vite = await import('vite');
} catch {
  console.log('dashboard: Vite is not installed (dev dependencies omitted); not built');
  process.exit(0);
}
await vite.build({ root, logLevel: 'warn' });
console.log(`dashboard: built into ${join('backend', 'public')}`);
