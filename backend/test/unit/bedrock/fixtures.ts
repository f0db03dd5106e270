/** Reads test fixtures: `test/fixtures/bedrock/**` (ours) and `test/fixtures/claude-code/**` (captured Claude Code requests). */

import { readdirSync, readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

const root = fileURLToPath(new URL('../../fixtures/', import.meta.url));

export function readFixture<T = unknown>(path: string): T {
  return JSON.parse(readFileSync(root + path, 'utf8')) as T;
}

export function fixtureNames(dir: string): string[] {
  return readdirSync(root + dir)
    .filter((f) => f.endsWith('.json'))
    .map((f) => f.slice(0, -'.json'.length))
    .sort();
}
