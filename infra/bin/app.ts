#!/usr/bin/env node
// CDK entry point (cdk.json: "app": "npx tsx bin/app.ts"): context → stacks → checks.
import { addComplianceChecks } from '../lib/compliance.ts';
import { ContextError } from '../lib/context.ts';
import { createProxyApp } from '../lib/proxy-app.ts';

try {
  const { app } = createProxyApp();
  // cdk-nag's AWS Solutions and NIST 800-53 rev 5 rules run at synthesis; any unacknowledged
  // finding fails it. Each acknowledgement carries its reason, copied into the template's metadata
  // (cdk_nag.rules_to_suppress) as an audit trail.
  addComplianceChecks(app);
  app.synth();
} catch (error) {
  if (!(error instanceof ContextError)) throw error;
  // A bad context value is the operator's input, not a bug: the message, without a stack trace.
  console.error(error.message);
  process.exit(1);
}
