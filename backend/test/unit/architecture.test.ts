import fs from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';

// The layering of docs/architecture.md, checked on every import in backend/src: a folder imports
// only the folders listed for it (the files directly in backend/src compose everything). A new
// upward import, or a cycle between folders, fails here.

const SRC = path.resolve(import.meta.dirname, '../../src');
const ROOT = '(root)';

const MAY_IMPORT: Readonly<Record<string, readonly string[]>> = {
  anthropic: [],
  observability: [],
  security: [],
  accounting: ['anthropic', 'observability'],
  db: ['accounting', 'anthropic'],
  usage: ['accounting', 'anthropic', 'db', 'observability'],
  bedrock: ['anthropic'],
  proxy: ['accounting', 'anthropic', 'bedrock', 'observability', 'security', 'usage'],
  admin: ['accounting', 'anthropic', 'bedrock', 'db', 'observability', 'proxy', 'security', 'usage'],
  dashboard: [],
  // The CLI talks to the server over HTTP: the admin contract's types, and password hashing for `admin hash-password`.
  cli: ['admin', 'security'],
};

interface Import {
  from: string;
  to: string;
  file: string;
  target: string;
}

function folderOf(file: string): string {
  const rel = path.relative(SRC, file);
  return rel.includes(path.sep) ? rel.split(path.sep)[0]! : ROOT;
}

function sourceFiles(dir: string): string[] {
  return fs.readdirSync(dir, { withFileTypes: true }).flatMap((e) => {
    const full = path.join(dir, e.name);
    return e.isDirectory() ? sourceFiles(full) : e.name.endsWith('.ts') ? [full] : [];
  });
}

/** Every relative import (static, type-only and dynamic) of backend/src that crosses a folder. */
function crossFolderImports(): Import[] {
  const found: Import[] = [];
  for (const file of sourceFiles(SRC)) {
    const text = fs.readFileSync(file, 'utf8');
    for (const match of text.matchAll(/(?:\bfrom\s*|\bimport\s*\(\s*|^import\s+)['"](\.{1,2}\/[^'"]+)['"]/gm)) {
      const target = path.resolve(path.dirname(file), match[1]!);
      const [from, to] = [folderOf(file), folderOf(target)];
      if (from !== to) found.push({ from, to, file: path.relative(SRC, file), target: path.relative(SRC, target) });
    }
  }
  return found;
}

/** A cycle in `edges` as a path of folders, or null. */
function findCycle(edges: ReadonlyMap<string, ReadonlySet<string>>): string[] | null {
  const state = new Map<string, 'visiting' | 'done'>();
  const walk = (node: string, trail: string[]): string[] | null => {
    if (state.get(node) === 'done') return null;
    if (state.get(node) === 'visiting') return [...trail.slice(trail.indexOf(node)), node];
    state.set(node, 'visiting');
    for (const next of edges.get(node) ?? []) {
      const cycle = walk(next, [...trail, node]);
      if (cycle) return cycle;
    }
    state.set(node, 'done');
    return null;
  };
  for (const node of edges.keys()) {
    const cycle = walk(node, []);
    if (cycle) return cycle;
  }
  return null;
}

describe('backend/src layering', () => {
  const imports = crossFolderImports();

  it('finds the imports it checks', () => {
    expect(imports.some((i) => i.from === 'proxy' && i.to === 'bedrock')).toBe(true);
    expect(imports.some((i) => i.from === ROOT)).toBe(true);
  });

  it('has no folder the table does not know', () => {
    const folders = new Set(imports.flatMap((i) => [i.from, i.to]));
    folders.delete(ROOT);
    expect([...folders].filter((f) => !(f in MAY_IMPORT))).toEqual([]);
  });

  it('imports only downwards', () => {
    const upward = imports.filter((i) => i.from !== ROOT && (i.to === ROOT || !MAY_IMPORT[i.from]?.includes(i.to)));
    expect(upward.map((i) => `${i.file} imports ${i.target}`)).toEqual([]);
  });

  it('has no cycle between folders, in the table or in the code', () => {
    expect(findCycle(new Map(Object.entries(MAY_IMPORT).map(([k, v]) => [k, new Set(v)])))).toBeNull();
    const edges = new Map<string, Set<string>>();
    for (const i of imports) edges.set(i.from, (edges.get(i.from) ?? new Set()).add(i.to));
    expect(findCycle(edges)).toBeNull();
  });

  it('the cycle finder finds a cycle', () => {
    expect(findCycle(new Map([['a', new Set(['b'])], ['b', new Set(['c'])], ['c', new Set(['a'])]]))).toEqual(['a', 'b', 'c', 'a']);
  });
});
