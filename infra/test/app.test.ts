import { Stack, Validations, type App } from 'aws-cdk-lib';
import { Annotations, Match } from 'aws-cdk-lib/assertions';
import * as sns from 'aws-cdk-lib/aws-sns';
import { AwsSolutionsChecks } from 'cdk-nag';
import { afterEach, beforeAll, describe, expect, it, vi } from 'vitest';
import { RETIRED_ENGINE_WARNING } from '../lib/database-stack.ts';
import type { ProxyStacks } from '../lib/proxy-app.ts';
import { makeApp } from './support/app.ts';

let app: App;
let stacks: ProxyStacks;

beforeAll(() => {
  ({ app, stacks } = makeApp({}, { keepWarnings: true }));
  // Cross-stack references become stack dependencies while the app is prepared for synthesis.
  app.synth();
});

afterEach(() => {
  vi.restoreAllMocks();
});

const ids = (list: Stack[]) => list.map((s) => s.node.id).sort();

describe('stacks', () => {
  it('are the five of the seed, addressable by the seed names, with prefixed CloudFormation names', () => {
    const all = app.node.children.filter((c): c is Stack => Stack.isStack(c));
    expect(all.map((s) => [s.node.id, s.stackName])).toEqual([
      ['NetworkStack', 'ClaudeCodeProxy-Network'],
      ['SecretsStack', 'ClaudeCodeProxy-Secrets'],
      ['DatabaseStack', 'ClaudeCodeProxy-Database'],
      ['ComputeStack', 'ClaudeCodeProxy-Compute'],
      ['MonitoringStack', 'ClaudeCodeProxy-Monitoring'],
    ]);
  });

  it('deploy to the account and region of the context', () => {
    for (const stack of Object.values(stacks)) {
      expect([stack.account, stack.region]).toEqual(['123456789012', 'ap-northeast-2']);
    }
    const other = makeApp({ account: '210987654321', region: 'eu-central-1' }).stacks;
    expect([other.compute.account, other.compute.region]).toEqual(['210987654321', 'eu-central-1']);
  });
});

describe('dependency graph (Network → Secrets and Database → Compute → Monitoring)', () => {
  it('deploys Network first, with nothing before it', () => {
    expect(stacks.network.dependencies).toEqual([]);
  });

  it('deploys Secrets and Database after Network, independently of each other', () => {
    expect(ids(stacks.secrets.dependencies)).toEqual(['NetworkStack']);
    expect(ids(stacks.database.dependencies)).toEqual(['NetworkStack']);
  });

  it('deploys Compute after Network, Secrets and Database', () => {
    expect(ids(stacks.compute.dependencies)).toEqual(['DatabaseStack', 'NetworkStack', 'SecretsStack']);
  });

  it('deploys Monitoring after Compute (and so after everything else)', () => {
    const direct = ids(stacks.monitoring.dependencies);
    expect(direct).toContain('ComputeStack');
    // Its only other edge (the Aurora capacity graph) points at a stack Compute already follows.
    expect(direct.filter((id) => id !== 'ComputeStack')).toEqual(['DatabaseStack']);
  });

  it('writes the same order into the cloud assembly', () => {
    const assembly = app.synth(); // cached: the assembly of beforeAll
    const deps = (id: string) =>
      (assembly.getStackArtifact(id).dependencies ?? []).map((d) => d.id).filter((d) => !d.endsWith('.assets')).sort();
    expect(deps('NetworkStack')).toEqual([]);
    expect(deps('SecretsStack')).toEqual(['NetworkStack']);
    expect(deps('DatabaseStack')).toEqual(['NetworkStack']);
    expect(deps('ComputeStack')).toEqual(['DatabaseStack', 'NetworkStack', 'SecretsStack']);
    expect(deps('MonitoringStack')).toEqual(['ComputeStack', 'DatabaseStack']);
  });
});

describe('synthesis warnings', () => {
  it('has none but the retired engine version of the seed', () => {
    const warnings = Object.values(stacks).flatMap((stack) =>
      Annotations.fromStack(stack)
        .findWarning('*', Match.anyValue())
        .map((w) => `${w.id}: ${String(w.entry.data)}`),
    );
    expect(warnings).toHaveLength(1);
    expect(warnings[0]).toContain(RETIRED_ENGINE_WARNING);
  });
});

describe('cdk-nag AwsSolutions', () => {
  /** Each acknowledgement of an AwsSolutions rule in the tree: where, which rule, and why. */
  const acknowledgements = (root: App) =>
    root.node.findAll().flatMap((construct) =>
      construct.node.metadata
        .filter((entry) => entry.type === Validations.ACKNOWLEDGED_RULES_METADATA_KEY)
        .flatMap((entry) => Object.entries(entry.data as Record<string, string>))
        .filter(([rule]) => rule.startsWith('Annotation::AwsSolutions-'))
        .map(([rule, reason]) => ({ path: construct.node.path, rule: rule.replace('Annotation::', ''), reason })),
    );

  it('finds no unacknowledged violation in any stack', () => {
    const report = new AwsSolutionsChecks().validateScope(app);
    const found = report.violations.flatMap((v) => v.violatingResources.map((r) => `${v.ruleName} at ${r.constructPath}`));
    expect(found).toEqual([]);
    expect(report.success).toBe(true);
  });

  it('runs as a validation plugin: synthesis fails on a violation', () => {
    const { app: strict, stacks: built } = makeApp();
    Validations.of(strict).addPlugins(new AwsSolutionsChecks(strict));
    new sns.Topic(built.monitoring, 'PlainTopic'); // no enforceSSL: AwsSolutions-SNS3
    expect(() => strict.synth()).toThrow(/AwsSolutions-SNS3/);
  });

  it('gives every acknowledgement a reason', () => {
    const acks = acknowledgements(app);
    expect(acks.length).toBeGreaterThan(0);
    for (const ack of acks) expect(ack.reason.length, `${ack.rule} at ${ack.path}`).toBeGreaterThan(40);
  });

  it('acknowledges only findings that really occur (no stale suppressions)', () => {
    const expected = acknowledgements(app);
    // Rebuild the app with acknowledgements switched off and collect what cdk-nag then reports.
    vi.spyOn(Validations.prototype, 'acknowledge').mockImplementation(() => undefined);
    const bare = makeApp({}, { keepWarnings: true }).app;
    const report = new AwsSolutionsChecks().validateScope(bare);
    const findings = report.violations.flatMap((v) =>
      v.violatingResources.map((r) => ({ rule: v.ruleName, path: r.constructPath ?? '' })),
    );
    for (const ack of expected) {
      const hit = findings.some((f) => f.rule === ack.rule && (f.path === ack.path || f.path.startsWith(`${ack.path}/`)));
      expect(hit, `${ack.rule} acknowledged at ${ack.path} but never reported there`).toBe(true);
    }
    // And nothing is reported that no acknowledgement covers.
    const uncovered = findings.filter(
      (f) => !expected.some((a) => a.rule === f.rule && (f.path === a.path || f.path.startsWith(`${a.path}/`))),
    );
    expect(uncovered).toEqual([]);
  });
});
