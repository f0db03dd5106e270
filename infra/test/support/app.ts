import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { Template } from 'aws-cdk-lib/assertions';
import { afterAll } from 'vitest';
import { addComplianceChecks } from '../../lib/compliance.ts';
import { createProxyApp, type ProxyStacks } from '../../lib/proxy-app.ts';

export const INFRA_DIR = path.resolve(import.meta.dirname, '..', '..');

/** The context of cdk.json: the example deployment every test starts from. */
export const EXAMPLE_CONTEXT: Record<string, unknown> = (
  JSON.parse(readFileSync(path.join(INFRA_DIR, 'cdk.json'), 'utf8')) as { context: Record<string, unknown> }
).context;

// Evaluated once per test file (vitest isolates modules), so this hook cleans up after each file.
const outdirs: string[] = [];
afterAll(() => {
  for (const dir of outdirs.splice(0)) rmSync(dir, { recursive: true, force: true });
});

/** A fresh temporary directory, removed after the test file. */
export function tempDir(prefix = 'ccproxy-infra-'): string {
  const dir = mkdtempSync(path.join(tmpdir(), prefix));
  outdirs.push(dir);
  return dir;
}

/**
 * The one app factory of the tests: cdk.json's context with `overrides` on top (a value of
 * `undefined` removes the key), synthesised into a temporary directory with the rule packs that
 * bin/app.ts runs, so every synthesis of a test fails on an unacknowledged finding as `cdk synth` does.
 */
export function makeApp(overrides: Record<string, unknown> = {}) {
  const context = { ...EXAMPLE_CONTEXT, ...overrides };
  for (const [key, value] of Object.entries(overrides)) if (value === undefined) delete context[key];
  const built = createProxyApp({ context, outdir: tempDir() });
  addComplianceChecks(built.app);
  return built;
}

/** Templates of all five stacks (one synthesis: Template.fromStack reuses the app's assembly). */
export function templatesOf(stacks: ProxyStacks): Record<keyof ProxyStacks, Template> {
  return {
    network: Template.fromStack(stacks.network),
    secrets: Template.fromStack(stacks.secrets),
    database: Template.fromStack(stacks.database),
    compute: Template.fromStack(stacks.compute),
    monitoring: Template.fromStack(stacks.monitoring),
  };
}

/** The single resource of `type` in `template` (fails unless there is exactly one). */
export function onlyResource(template: Template, type: string): { Properties: Record<string, unknown> } & Record<string, unknown> {
  const found = Object.values(template.findResources(type));
  if (found.length !== 1) throw new Error(`expected one ${type}, found ${found.length}`);
  return found[0] as { Properties: Record<string, unknown> } & Record<string, unknown>;
}
