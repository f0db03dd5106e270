import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import type { FastifyInstance } from 'fastify';
import type { Static } from 'typebox';
import { formatZoned } from '../accounting/calendar.ts';
import { normalizeUsd, sumUsd } from '../accounting/money.ts';
import { isWarning, type UnifiedLimits } from '../anthropic/unified-limits.ts';
import type { DescribedKey } from '../db/access-key-repository.ts';
import type { UserRow } from '../db/user-repository.ts';
import { parkFor, policyOf, type Park } from '../proxy/plan-window-policy.ts';
import type { PlanWindowEntry } from '../proxy/plan-windows.ts';
import { breakerJson, withoutBedrockKey } from './circuit-breakers.ts';
import { notFound } from './errors.ts';
import type { AdminDeps } from './plugin.ts';
import { periodJson, reportBuckets, reportRange } from './report-range.ts';
import { updateUserSettings } from './user-settings.ts';
import { IdParams, PlanPark, PlanReport, PlanReportQuery, PlanSettings, PlanWindow, PlanWindowList, PlanWindowQuery, PutPlanSettingsBody } from './schemas.ts';

// The Plan window (README, "Plan window"): where each developer's Plan stands, the rule that moves
// them to Bedrock before its limit, and what that cost. Readings are this task's memory, which every
// task shares through the database within a second or so.

const iso = (unixSeconds: number | null): string | null => (unixSeconds === null ? null : new Date(unixSeconds * 1000).toISOString());
const parkJson = (p: Park | null): Static<typeof PlanPark> | null => (p ? { reason: p.reason, window: p.window, until: new Date(p.until).toISOString() } : null);

// A model of each family, to ask the policy what a family-scoped window does to it.
const FAMILY_MODELS = { opus: 'claude-opus', sonnet: 'claude-sonnet', other: 'claude-haiku' } as const;

function windowsJson(limits: UnifiedLimits): Static<typeof PlanWindow>['windows'] {
  const out: Static<typeof PlanWindow>['windows'] = {};
  for (const [claim, w] of Object.entries(limits.windows) as [keyof typeof out, NonNullable<UnifiedLimits['windows'][keyof UnifiedLimits['windows']]>][]) {
    out[claim] = { utilization: w.utilization, resets_at: iso(w.resetsAt), surpassed_threshold: w.surpassedThreshold };
  }
  return out;
}

function settingsJson(row: UserRow, serverThreshold: number): Static<typeof PlanSettings> {
  return {
    user_id: row.id,
    switch_threshold: row.planSwitchThreshold,
    effective_threshold: row.planSwitchThreshold ?? serverThreshold,
    server_threshold: serverThreshold,
    overage: row.planOverage,
  };
}

/** Every key with a Plan reading or a breaker that is not closed, with its user's rule applied (of one user, with `userId`). */
export async function planWindowsOf(deps: AdminDeps, userId: string | undefined): Promise<Static<typeof PlanWindow>[]> {
  const readings = new Map(deps.planWindows.list().map((e) => [e.accessKeyId, e]));
  const ids = new Set([...readings.keys(), ...deps.breakers.list().map((b) => b.accessKeyId)]);
  const keys = (await deps.accessKeys.describe([...ids])).filter((k) => !userId || k.userId === userId);
  const noKey = await withoutBedrockKey(deps, keys.map((k) => k.id));
  return keys
    .map((k) => windowJson(k, readings.get(k.id), noKey.has(k.id), deps))
    .sort((a, b) => a.user_name.localeCompare(b.user_name) || a.key_prefix.localeCompare(b.key_prefix));
}

function windowJson(k: DescribedKey, entry: PlanWindowEntry | undefined, noBedrockKey: boolean, deps: AdminDeps): Static<typeof PlanWindow> {
  const policy = policyOf(k, deps.planSwitchThreshold);
  const now = Date.now();
  const park = (model: string) => (entry ? parkJson(parkFor(entry.limits, entry.observedAt, policy, model, now)) : null);
  const limits = entry?.limits;
  return {
    access_key_id: k.id,
    key_prefix: k.keyPrefix,
    user_id: k.userId,
    user_name: k.userName,
    observed_at: entry ? new Date(entry.observedAt).toISOString() : null,
    status: limits?.status ?? null,
    claim: limits?.claim ?? null,
    resets_at: iso(limits?.resetsAt ?? null),
    windows: limits ? windowsJson(limits) : {},
    overage_status: limits?.overageStatus ?? null,
    warning: limits ? isWarning(limits) : false,
    threshold: policy.threshold,
    threshold_source: k.planSwitchThreshold !== null ? 'user' : 'server',
    overage_policy: policy.overage,
    parked: { opus: park(FAMILY_MODELS.opus), sonnet: park(FAMILY_MODELS.sonnet), other: park(FAMILY_MODELS.other) },
    breaker: breakerJson(deps.breakers.snapshot(k.id), noBedrockKey ? 'no_bedrock_key' : null),
  };
}

export async function planWindowRoutes(parent: FastifyInstance, deps: AdminDeps): Promise<void> {
  const app = parent.withTypeProvider<TypeBoxTypeProvider>();
  const serverThreshold = deps.planSwitchThreshold;

  app.get(
    '/plan-windows',
    {
      schema: {
        summary: "Each access key's Plan window (Anthropic's unified limit headers), where its plan_first requests go now and why, and its breaker",
        querystring: PlanWindowQuery,
        response: { 200: PlanWindowList },
      },
    },
    async (request) => ({ items: await planWindowsOf(deps, request.query.user_id), server_threshold: serverThreshold, timezone: deps.accounting.timeZone }),
  );

  app.get('/users/:id/plan', { schema: { summary: "The user's rule for leaving the Plan", params: IdParams, response: { 200: PlanSettings } } }, async (request) => {
    const row = await deps.users.get(request.params.id);
    if (!row) throw notFound('user');
    return settingsJson(row, serverThreshold);
  });

  app.put(
    '/users/:id/plan',
    {
      schema: {
        summary: "Set the user's switch threshold (null: the server's PLAN_SWITCH_THRESHOLD) and whether paid overage keeps them on Anthropic",
        params: IdParams,
        body: PutPlanSettingsBody,
        response: { 200: PlanSettings },
      },
    },
    async (request) => {
      const body = request.body;
      const changes = {
        ...(body.switch_threshold !== undefined ? { planSwitchThreshold: body.switch_threshold } : {}),
        ...(body.overage !== undefined ? { planOverage: body.overage } : {}),
      };
      return updateUserSettings(deps, request, request.params.id, 'user.plan', changes, (row) => settingsJson(row, serverThreshold));
    },
  );

  app.get(
    '/usage/plan',
    {
      schema: {
        summary: 'Plan utilization over time, time and spend on Bedrock by reason, Plan traffic at API prices, and what switching early or late cost',
        querystring: PlanReportQuery,
        response: { 200: PlanReport },
      },
    },
    async (request) => {
      const q = request.query;
      const { timeZone, reports } = deps.accounting;
      const r = reportRange(q, timeZone);
      const { bucket, starts } = reportBuckets(q, r, timeZone);
      const report = await reports.plan({ start: r.start, end: r.end, userId: q.user_id, bucket, timeZone });
      const byStart = new Map(report.buckets.map((b) => [b.bucketStart.getTime(), b]));
      const windows = await planWindowsOf(deps, q.user_id);
      const read = windows.filter((w) => w.observed_at !== null);
      const mean = (pick: (w: Static<typeof PlanWindow>) => number | null | undefined): number | null => {
        const values = read.map(pick).filter((v): v is number => typeof v === 'number');
        return values.length ? Math.round((values.reduce((a, b) => a + b, 0) / values.length) * 10_000) / 10_000 : null;
      };
      const early = report.bedrockByReason.find((b) => b.reason === 'plan_threshold');
      return {
        period: periodJson(r, timeZone),
        bucket,
        buckets: starts.map((start) => {
          const b = byStart.get(start.getTime());
          return {
            start: formatZoned(start, timeZone),
            max_5h_utilization: b?.max5hUtilization ?? null,
            max_7d_utilization: b?.max7dUtilization ?? null,
            plan_requests: b?.planRequests ?? 0,
            bedrock_requests: b?.bedrockRequests ?? 0,
          };
        }),
        bedrock: {
          cost_usd: sumUsd(report.bedrockByReason.map((b) => b.costUsd)),
          by_reason: report.bedrockByReason.map((b) => ({ reason: b.reason, requests: b.requests, cost_usd: b.costUsd, minutes: b.minutes })),
        },
        plan_cost_at_api_prices_usd: report.planCostUsd,
        spend_caused_early_usd: normalizeUsd(early?.costUsd),
        spend_avoided_late_usd: report.planCostAfterWarningUsd,
        session_switches: report.sessionSwitches,
        switch_cache_write_cost_usd: report.switchCacheWriteCostUsd,
        capacity: {
          keys: read.length,
          mean_5h_utilization: mean((w) => w.windows.five_hour?.utilization),
          mean_7d_utilization: mean((w) => w.windows.seven_day?.utilization),
          parked_keys: windows.filter((w) => w.parked.opus || w.parked.sonnet || w.parked.other).length,
        },
      };
    },
  );
}
