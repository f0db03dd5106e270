#!/usr/bin/env node
// CDK entry point (cdk.json: "app": "npx tsx bin/app.ts"): context → stacks → checks.
import { Validations } from 'aws-cdk-lib';
import { AwsSolutionsChecks } from 'cdk-nag';
import { ContextError } from '../lib/context.ts';
import { createProxyApp } from '../lib/proxy-app.ts';

try {
  const { app } = createProxyApp();
  // cdk-nag's AWS Solutions rules run at synthesis; any unacknowledged finding fails it. Each
  // acknowledgement sits beside its resource with the reason, and is copied into the template's
  // metadata (cdk_nag.rules_to_suppress) as an audit trail.
  Validations.of(app).addPlugins(new AwsSolutionsChecks(app, { writeSuppressionsToCloudFormation: true }));
  app.synth();
} catch (error) {
  if (!(error instanceof ContextError)) throw error;
  // A bad context value is the operator's input, not a bug: the message, without a stack trace.
  console.error(error.message);
  process.exit(1);
}
