import type { IncomingHttpHeaders } from 'node:http';
import { headerValue } from './headers.ts';

// Anthropic's answers to Claude plan credentials carry the plan's usage windows in
// `anthropic-ratelimit-unified-*` headers (docs/upstream-apis.md §1.8). API-key answers carry none.

const PREFIX = 'anthropic-ratelimit-unified-';

export type UnifiedStatus = 'allowed' | 'allowed_warning' | 'rejected';
/** The window that binds: the plan's 5-hour or weekly window, a model family's weekly one, or paid overage. */
export type UnifiedClaim = 'five_hour' | 'seven_day' | 'seven_day_opus' | 'seven_day_sonnet' | 'overage';

/** The windows a reading may carry, with the header infix Anthropic names each by. */
export const WINDOWS = [
  ['five_hour', '5h'],
  ['seven_day', '7d'],
  ['seven_day_opus', '7d_opus'],
  ['seven_day_sonnet', '7d_sonnet'],
  ['overage', 'overage'],
] as const satisfies readonly (readonly [UnifiedClaim, string])[];

export interface WindowReading {
  /** 0–1; null when the header was absent. */
  utilization: number | null;
  /** Unix seconds. */
  resetsAt: number | null;
  /** The warning threshold Anthropic reports crossed (0–1), if any. */
  surpassedThreshold: number | null;
}

/** One answer's unified headers, parsed. Plain data (it is stored as JSON and sent to other tasks). */
export interface UnifiedLimits {
  status: UnifiedStatus;
  /** The binding window, when Anthropic names one. */
  claim: UnifiedClaim | null;
  /** When the binding window resets (Unix seconds). */
  resetsAt: number | null;
  windows: Partial<Record<UnifiedClaim, WindowReading>>;
  overageStatus: UnifiedStatus | null;
  /** `available`: Anthropic offers a fallback model. Shown, not acted on. */
  fallback: string | null;
}

const STATUSES: readonly string[] = ['allowed', 'allowed_warning', 'rejected'] satisfies UnifiedStatus[];
const CLAIMS: readonly string[] = WINDOWS.map(([claim]) => claim);

/** The unified limits of an answer, or null when it carries none (an API key, or a plain throttle). */
export function readUnifiedLimits(headers: IncomingHttpHeaders): UnifiedLimits | null {
  const status = headerValue(headers[`${PREFIX}status`]);
  if (status === undefined || !STATUSES.includes(status)) return null;
  const windows: UnifiedLimits['windows'] = {};
  for (const [claim, infix] of WINDOWS) {
    const reading = {
      utilization: fraction(headers[`${PREFIX}${infix}-utilization`]),
      resetsAt: unixSeconds(headers[`${PREFIX}${infix}-reset`]),
      surpassedThreshold: fraction(headers[`${PREFIX}${infix}-surpassed-threshold`]),
    };
    if (reading.utilization !== null || reading.resetsAt !== null || reading.surpassedThreshold !== null) windows[claim] = reading;
  }
  const claim = headerValue(headers[`${PREFIX}representative-claim`]);
  const overage = headerValue(headers[`${PREFIX}overage-status`]);
  return {
    status: status as UnifiedStatus,
    claim: claim !== undefined && CLAIMS.includes(claim) ? (claim as UnifiedClaim) : null,
    resetsAt: unixSeconds(headers[`${PREFIX}reset`]),
    windows,
    overageStatus: overage !== undefined && STATUSES.includes(overage) ? (overage as UnifiedStatus) : null,
    fallback: headerValue(headers[`${PREFIX}fallback`]) ?? null,
  };
}

/** Whether the binding window (or any window) is past a warning threshold Anthropic reported. */
export function isWarning(limits: UnifiedLimits): boolean {
  return limits.status === 'allowed_warning' || Object.values(limits.windows).some((w) => w.surpassedThreshold !== null);
}

/** A header's number; null when absent or blank (Number('') would be 0). */
function numberOf(value: string | string[] | undefined): number | null {
  const text = headerValue(value)?.trim();
  if (!text) return null;
  const n = Number(text);
  return Number.isFinite(n) ? n : null;
}

function fraction(value: string | string[] | undefined): number | null {
  const n = numberOf(value);
  return n !== null && n >= 0 ? n : null;
}

function unixSeconds(value: string | string[] | undefined): number | null {
  const n = numberOf(value);
  return n !== null && n > 0 ? Math.round(n) : null;
}

/**
 * Headers in the same form for a budget: Bedrock answers to a budgeted user carry the month's budget
 * use as the `overage` window, which Claude Code shows as "You've used N% of your usage credits"
 * (docs/upstream-apis.md §4.5). A threshold is reported crossed from 75 % on. Never `rejected`: the
 * answer was served (a request the budget cannot cover is refused before Bedrock is called).
 */
export function budgetLimitHeaders(used: number, resetsAt: Date): Record<string, string> {
  const utilization = Math.max(0, Math.round(used * 10_000) / 10_000);
  const crossed = [0.95, 0.9, 0.75].find((t) => utilization >= t);
  const status = crossed ? 'allowed_warning' : 'allowed';
  return {
    [`${PREFIX}status`]: status,
    [`${PREFIX}overage-status`]: status,
    [`${PREFIX}overage-utilization`]: String(utilization),
    [`${PREFIX}overage-reset`]: String(Math.floor(resetsAt.getTime() / 1000)),
    ...(crossed ? { [`${PREFIX}overage-surpassed-threshold`]: String(crossed) } : {}),
  };
}
