import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import type { TestProject } from 'vitest/node';
import { openDatabase } from '../../src/db/client.ts';
import { migrate } from '../../src/db/migrate.ts';

declare module 'vitest' {
  export interface ProvidedContext {
    pgliteTemplate: string;
  }
}

/**
 * Creating a PGlite database runs initdb (seconds); loading a dump of a migrated one takes well
 * under one. So migrate once here, and let every test file clone the dump.
 */
export default async function setup(project: TestProject): Promise<() => void> {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'ccproxy-test-'));
  const file = path.join(dir, 'pglite-template.tar');
  const database = await openDatabase({ kind: 'pglite' });
  await migrate(database);
  const dump = await database.dump?.();
  if (!dump) throw new Error('test database cannot be dumped');
  fs.writeFileSync(file, Buffer.from(await dump.arrayBuffer()));
  await database.close();
  project.provide('pgliteTemplate', file);
  return () => fs.rmSync(dir, { recursive: true, force: true });
}
