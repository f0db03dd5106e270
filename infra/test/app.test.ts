import { Stack, Validations, type App } from 'aws-cdk-lib';
import { Annotations, Match } from 'aws-cdk-lib/assertions';
import * as sns from 'aws-cdk-lib/aws-sns';
import { afterEach, beforeAll, describe, expect, it, vi } from 'vitest';
import { compliancePacks } from '../lib/compliance.ts';
import type { ProxyStacks } from '../lib/proxy-app.ts';
import { makeApp } from './support/app.ts';

let app: App;
let stacks: ProxyStacks;

beforeAll(() => {
  ({ app, stacks } = makeApp());
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

describe('dependency graph (Network → Secrets → Database → Compute → Monitoring)', () => {
  it('deploys Network first, with nothing before it', () => {
    expect(stacks.network.dependencies).toEqual([]);
  });

  it('deploys Secrets after Network, and Database after both (its secrets and log use the key)', () => {
    expect(ids(stacks.secrets.dependencies)).toEqual(['NetworkStack']);
    expect(ids(stacks.database.dependencies)).toEqual(['NetworkStack', 'SecretsStack']);
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
    expect(deps('DatabaseStack')).toEqual(['NetworkStack', 'SecretsStack']);
    expect(deps('ComputeStack')).toEqual(['DatabaseStack', 'NetworkStack', 'SecretsStack']);
    expect(deps('MonitoringStack')).toEqual(['ComputeStack', 'DatabaseStack']);
  });
});

describe('synthesis warnings', () => {
  it('has none', () => {
    const warnings = Object.values(stacks).flatMap((stack) =>
      Annotations.fromStack(stack)
        .findWarning('*', Match.anyValue())
        .map((w) => `${w.id}: ${String(w.entry.data)}`),
    );
    expect(warnings).toEqual([]);
  });
});

describe('cdk-nag AwsSolutions and NIST 800-53 rev 5', () => {
  /** Each acknowledgement of a rule of either pack in the tree: where, which rule, and why. */
  const acknowledgements = (root: App) =>
    root.node.findAll().flatMap((construct) =>
      construct.node.metadata
        .filter((entry) => entry.type === Validations.ACKNOWLEDGED_RULES_METADATA_KEY)
        .flatMap((entry) => Object.entries(entry.data as Record<string, string>))
        .filter(([rule]) => /^Annotation::(AwsSolutions|NIST\.800\.53\.R5)-/.test(rule))
        .map(([rule, reason]) => ({ path: construct.node.path, rule: rule.replace('Annotation::', ''), reason })),
    );

  /** What the packs report on `root` that nothing acknowledges. */
  const findingsOf = (root: App) =>
    compliancePacks().flatMap((pack) =>
      pack.validateScope(root).violations.flatMap((v) => v.violatingResources.map((r) => ({ rule: v.ruleName, path: r.constructPath ?? '' }))),
    );

  it('runs both packs', () => {
    expect(compliancePacks().map((p) => p.name)).toEqual(['AwsSolutions', 'NIST.800.53.R5']);
  });

  it.each(['prod', 'dev'])('finds no unacknowledged violation in any stack (stage %s)', (stage) => {
    const root = stage === 'prod' ? app : makeApp({ stage }).app;
    expect(findingsOf(root).map((f) => `${f.rule} at ${f.path}`)).toEqual([]);
  });

  it('runs as a validation plugin: synthesis fails on a violation of either pack', () => {
    const { app: strict, stacks: built } = makeApp();
    new sns.Topic(built.monitoring, 'PlainTopic'); // no enforceSSL, no KMS key: AwsSolutions-SNS3, NIST SNSEncryptedKMS
    expect(() => strict.synth()).toThrow(/AwsSolutions-SNS3[\s\S]*NIST\.800\.53\.R5-SNSEncryptedKMS|NIST\.800\.53\.R5-SNSEncryptedKMS[\s\S]*AwsSolutions-SNS3/);
  });

  it('gives every acknowledgement a reason', () => {
    const acks = acknowledgements(app);
    expect(acks.length).toBeGreaterThan(0);
    for (const ack of acks) expect(ack.reason.length, `${ack.rule} at ${ack.path}`).toBeGreaterThan(40);
  });

  it.each(['prod', 'dev'])('acknowledges only findings that really occur (no stale suppressions, stage %s)', (stage) => {
    const expected = acknowledgements(stage === 'prod' ? app : makeApp({ stage }).app);
    // Rebuild the app with acknowledgements switched off and collect what the packs then report.
    vi.spyOn(Validations.prototype, 'acknowledge').mockImplementation(() => undefined);
    const findings = findingsOf(makeApp({ stage }).app);
    vi.restoreAllMocks();
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
