// The real `cdk synth`, as an operator runs it on a fresh checkout: no AWS credentials, no
// account lookups, no Docker, and none of the CLI's calls home (telemetry, version check, notices).
import { execFile } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import * as path from 'node:path';
import { promisify } from 'node:util';
import { describe, expect, it } from 'vitest';
import { INFRA_DIR, tempDir } from './support/app.ts';

const CDK_CLI = createRequire(import.meta.url).resolve('aws-cdk/bin/cdk');
const STACKS = ['NetworkStack', 'SecretsStack', 'DatabaseStack', 'ComputeStack', 'MonitoringStack'];

/** The environment without any AWS credentials or profile, and with every phone-home off. */
function offlineEnv(): NodeJS.ProcessEnv {
  const env = Object.fromEntries(Object.entries(process.env).filter(([name]) => !name.startsWith('AWS_') && !name.startsWith('CDK_')));
  return {
    ...env,
    CDK_DISABLE_VERSION_CHECK: 'true',
    CDK_DISABLE_CLI_TELEMETRY: 'true',
    AWS_EC2_METADATA_DISABLED: 'true',
    AWS_CONFIG_FILE: path.join(INFRA_DIR, 'no-such-aws-config'),
    AWS_SHARED_CREDENTIALS_FILE: path.join(INFRA_DIR, 'no-such-aws-credentials'),
    // npx (cdk.json's "app") must find tsx in the workspace, never fetch it.
    npm_config_offline: 'true',
  };
}

async function cdkSynth(args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  try {
    const { stdout, stderr } = await promisify(execFile)(process.execPath, [CDK_CLI, 'synth', '--no-notices', ...args], {
      cwd: INFRA_DIR,
      env: offlineEnv(),
      timeout: 110_000,
      maxBuffer: 64 * 1024 * 1024,
    });
    return { code: 0, stdout, stderr };
  } catch (error) {
    const failed = error as { code?: number; stdout?: string; stderr?: string };
    return { code: typeof failed.code === 'number' ? failed.code : -1, stdout: failed.stdout ?? '', stderr: failed.stderr ?? '' };
  }
}

describe('cdk synth (CLI, offline)', () => {
  it('synthesises the five stacks from cdk.json alone', async () => {
    const out = tempDir('ccproxy-cdk-out-');
    const result = await cdkSynth(['--quiet', '--output', out]);
    expect(result.stderr).not.toMatch(/Need to perform AWS calls|Unable to resolve AWS account/);
    expect(result.code, result.stderr).toBe(0);

    for (const stack of STACKS) expect(existsSync(path.join(out, `${stack}.template.json`)), stack).toBe(true);
    const manifest = JSON.parse(readFileSync(path.join(out, 'manifest.json'), 'utf8')) as { missing?: unknown[] };
    expect(manifest.missing ?? []).toEqual([]); // no context lookup left for a deploy-time account call

    // No validation plugin failed (a plugin that finds nothing is left out of the report)...
    const report = JSON.parse(readFileSync(path.join(out, 'validation-report.json'), 'utf8')) as {
      pluginReports: Array<{ pluginName: string; conclusion: string }>;
    };
    expect(report.pluginReports.filter((r) => r.conclusion !== 'success')).toEqual([]);
    // ...and cdk-nag was one of them: it copied its acknowledgements into the templates.
    const compute = JSON.parse(readFileSync(path.join(out, 'ComputeStack.template.json'), 'utf8')) as {
      Resources: Record<string, { Type: string; Metadata?: { cdk_nag?: { rules_to_suppress: Array<{ id: string; reason: string }> } } }>;
    };
    const alb = Object.values(compute.Resources).find((r) => r.Type === 'AWS::ElasticLoadBalancingV2::LoadBalancer');
    // Both packs: AWS Solutions and NIST 800-53 rev 5.
    expect(alb?.Metadata?.cdk_nag?.rules_to_suppress.map((r) => r.id)).toEqual(
      expect.arrayContaining(['AwsSolutions-ELB2', 'NIST.800.53.R5-ELBLoggingEnabled']),
    );
  });

  it('synthesises stage dev from cdk.json and -c stage=dev, with the acknowledgements only dev needs', async () => {
    const out = tempDir('ccproxy-cdk-out-');
    const result = await cdkSynth(['--quiet', '--output', out, '-c', 'stage=dev']);
    expect(result.code, result.stderr).toBe(0);
    const database = JSON.parse(readFileSync(path.join(out, 'DatabaseStack.template.json'), 'utf8')) as {
      Resources: Record<string, { Type: string; DeletionPolicy?: string; Properties: Record<string, unknown>; Metadata?: { cdk_nag?: { rules_to_suppress: Array<{ id: string }> } } }>;
    };
    const cluster = Object.values(database.Resources).find((r) => r.Type === 'AWS::RDS::DBCluster');
    expect([cluster?.Properties.DeletionProtection, cluster?.DeletionPolicy]).toEqual([false, 'Delete']);
    expect(cluster?.Metadata?.cdk_nag?.rules_to_suppress.map((r) => r.id)).toContain('NIST.800.53.R5-RDSInstanceDeletionProtectionEnabled');
  });

  it('stops on a context value of the wrong shape, naming it, before synthesising anything', async () => {
    const out = tempDir('ccproxy-cdk-out-');
    const result = await cdkSynth(['--quiet', '--output', out, '-c', 'domainName=proxy_example', '-c', 'alertEmail=nobody']);
    expect(result.code).not.toBe(0);
    expect(result.stderr).toContain('Invalid CDK context');
    expect(result.stderr).toContain('- domainName: "proxy_example" is not a domain name');
    expect(result.stderr).toContain('- alertEmail: "nobody" is not an e-mail address');
    expect(result.stderr).not.toMatch(/at .*context\.ts:\d+/); // a message, not a stack trace
    for (const stack of STACKS) expect(existsSync(path.join(out, `${stack}.template.json`)), stack).toBe(false);
  });
});
