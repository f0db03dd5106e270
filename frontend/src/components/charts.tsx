import { Bar, BarChart, CartesianGrid, ComposedChart, Legend, Line, ResponsiveContainer, Tooltip, XAxis, YAxis } from 'recharts';
import { formatTokens, formatUsd } from '../lib/format.ts';
import { bucketLabel } from '../lib/period.ts';
import { maxOf, niceTicks } from '../lib/ticks.ts';
import type { CostBreakdown, ErrorReport, PlanReport, TopUsers, UsageReport } from '../lib/types.ts';
import { EmptyState } from './EmptyState.tsx';

// The dashboard's charts. Each is an SVG in a fixed-height box that follows its panel's width.
// Axis text and grid take the box's text colour (currentColor), so they read in light and dark mode;
// value axes step in round numbers (lib/ticks.ts).

export const COLORS = {
  input: '#6366f1',
  output: '#10b981',
  cacheRead: '#f59e0b',
  cacheWrite: '#0ea5e9',
  cost: '#7c3aed',
  plan: '#6366f1',
  bedrock: '#f97316',
  fiveHour: '#6366f1',
  sevenDay: '#0f766e',
  error: '#dc2626',
};

const axis = { fontSize: 12, fill: 'currentColor' };
/** The box around a chart: its colour is the axes'. */
const BOX = 'w-full text-slate-600 dark:text-slate-300';
const grid = { strokeDasharray: '3 3', stroke: 'currentColor', strokeOpacity: 0.25 };
/** Round ticks from 0 for a value axis, and the domain they span. */
function valueAxis(max: number, integers: boolean) {
  const ticks = niceTicks(max, { integers });
  return { ticks, domain: [0, ticks.at(-1)!], interval: 0 as const };
}
const tokenTick = (v: number) => formatTokens(v);
const usdTick = (v: number) => (v === 0 ? '$0' : formatUsd(v));

function spansDays(report: { period: { start: string }; buckets: { start: string }[] }): boolean {
  return report.period.start.slice(0, 10) !== report.buckets.at(-1)?.start.slice(0, 10);
}

const NO_TRAFFIC = 'No requests in this period. Usage appears here once a key is used: issue one on a user\'s page and point Claude Code at it.';

export function TokensChart({ report }: { report: UsageReport }) {
  if (report.totals.requests === 0) return <EmptyState title="No tokens yet">{NO_TRAFFIC}</EmptyState>;
  const multiDay = spansDays(report);
  const data = report.buckets.map((b) => ({
    label: bucketLabel(b.start, report.bucket, multiDay),
    input: b.input_tokens,
    output: b.output_tokens,
    cacheRead: b.cache_read_tokens,
    cacheWrite: b.cache_write_tokens,
  }));
  return (
    <div className={`h-64 ${BOX}`} role="img" aria-label="Tokens over time: input, output, cache read and cache write">
      <ResponsiveContainer width="100%" height="100%">
        <BarChart data={data} margin={{ top: 4, right: 8, left: 0, bottom: 0 }}>
          <CartesianGrid {...grid} vertical={false} />
          <XAxis dataKey="label" tick={axis} minTickGap={12} />
          <YAxis tick={axis} tickFormatter={tokenTick} width={56} {...valueAxis(maxOf(data, (d) => d.input + d.output + d.cacheRead + d.cacheWrite), true)} />
          <Tooltip formatter={(v) => formatTokens(Number(v))} />
          <Legend />
          <Bar dataKey="input" name="Input" stackId="t" fill={COLORS.input} isAnimationActive={false} />
          <Bar dataKey="output" name="Output" stackId="t" fill={COLORS.output} isAnimationActive={false} />
          <Bar dataKey="cacheRead" name="Cache read" stackId="t" fill={COLORS.cacheRead} isAnimationActive={false} />
          <Bar dataKey="cacheWrite" name="Cache write" stackId="t" fill={COLORS.cacheWrite} isAnimationActive={false} />
        </BarChart>
      </ResponsiveContainer>
    </div>
  );
}

export function CostChart({ report }: { report: UsageReport }) {
  if (report.totals.requests === 0) return <EmptyState title="No cost yet">{NO_TRAFFIC}</EmptyState>;
  const multiDay = spansDays(report);
  const data = report.buckets.map((b) => ({ label: bucketLabel(b.start, report.bucket, multiDay), cost: Number(b.cost_usd) }));
  return (
    <div className={`h-64 ${BOX}`} role="img" aria-label="Cost in USD over time">
      <ResponsiveContainer width="100%" height="100%">
        <BarChart data={data} margin={{ top: 4, right: 8, left: 0, bottom: 0 }}>
          <CartesianGrid {...grid} vertical={false} />
          <XAxis dataKey="label" tick={axis} minTickGap={12} />
          <YAxis tick={axis} tickFormatter={usdTick} width={64} {...valueAxis(maxOf(data, (d) => d.cost), false)} />
          <Tooltip formatter={(v) => formatUsd(Number(v))} />
          <Bar dataKey="cost" name="Cost" fill={COLORS.cost} isAnimationActive={false} />
        </BarChart>
      </ResponsiveContainer>
    </div>
  );
}

export function CostByModelChart({ breakdown }: { breakdown: CostBreakdown }) {
  if (breakdown.items.length === 0) return <EmptyState title="No models used">{NO_TRAFFIC}</EmptyState>;
  const data = breakdown.items.slice(0, 8).map((i) => ({
    label: `${i.model} · ${i.provider === 'plan' ? 'Plan' : 'Bedrock'}`,
    cost: Number(i.cost_usd),
    provider: i.provider,
  }));
  return (
    <>
      <div className={BOX} style={{ height: 48 + data.length * 36 }} role="img" aria-label="Cost by model">
        <ResponsiveContainer width="100%" height="100%">
          <BarChart data={data} layout="vertical" margin={{ top: 0, right: 32, left: 8, bottom: 0 }}>
            <CartesianGrid {...grid} horizontal={false} />
            <XAxis type="number" tick={axis} tickFormatter={usdTick} {...valueAxis(maxOf(data, (d) => d.cost), false)} />
            <YAxis type="category" dataKey="label" tick={axis} width={190} />
            <Tooltip formatter={(v) => formatUsd(Number(v))} />
            <Bar dataKey="cost" name="Cost" fill={COLORS.cost} isAnimationActive={false} />
          </BarChart>
        </ResponsiveContainer>
      </div>
      <div className="mt-3 overflow-x-auto">
        <table className="table-basic">
          <thead>
            <tr>
              <th scope="col">Model</th>
              <th scope="col">Provider</th>
              <th scope="col" className="text-right">Requests</th>
              <th scope="col" className="text-right">Tokens in / out</th>
              <th scope="col" className="text-right">Cost</th>
            </tr>
          </thead>
          <tbody>
            {breakdown.items.map((i) => (
              <tr key={`${i.provider}/${i.model}`}>
                <td className="font-mono text-xs">{i.model}</td>
                <td>{i.provider === 'plan' ? 'Plan' : 'Bedrock'}</td>
                <td className="text-right tabular-nums">{i.requests}</td>
                <td className="text-right tabular-nums">
                  {formatTokens(i.input_tokens)} / {formatTokens(i.output_tokens)}
                </td>
                <td className="text-right tabular-nums">{formatUsd(i.cost_usd)}</td>
              </tr>
            ))}
          </tbody>
        </table>
      </div>
    </>
  );
}

export function TopUsersChart({ top }: { top: TopUsers }) {
  const byCost = top.by === 'cost';
  if (top.items.length === 0) return <EmptyState title="No users with traffic">{NO_TRAFFIC}</EmptyState>;
  const data = top.items.map((i) => ({ label: i.name ?? i.user_id.slice(0, 8), value: byCost ? Number(i.cost_usd) : i.total_tokens }));
  const fmt = (v: number) => (byCost ? formatUsd(v) : formatTokens(v));
  return (
    <div className={BOX} style={{ height: 40 + data.length * 34 }} role="img" aria-label={byCost ? 'Top users by cost' : 'Top users by tokens'}>
      <ResponsiveContainer width="100%" height="100%">
        <BarChart data={data} layout="vertical" margin={{ top: 0, right: 32, left: 8, bottom: 0 }}>
          <CartesianGrid {...grid} horizontal={false} />
          <XAxis type="number" tick={axis} tickFormatter={byCost ? usdTick : tokenTick} {...valueAxis(maxOf(data, (d) => d.value), !byCost)} />
          <YAxis type="category" dataKey="label" tick={axis} width={110} />
          <Tooltip formatter={(v) => fmt(Number(v))} />
          <Bar dataKey="value" name={byCost ? 'Cost' : 'Tokens'} fill={byCost ? COLORS.cost : COLORS.input} isAnimationActive={false} />
        </BarChart>
      </ResponsiveContainer>
    </div>
  );
}

/** Per bucket: the highest 5-hour and 7-day utilization Anthropic reported (lines, %) and the requests Bedrock served (bars). */
export function PlanUtilizationChart({ report }: { report: PlanReport }) {
  if (report.buckets.every((b) => b.plan_requests === 0 && b.bedrock_requests === 0)) {
    return <EmptyState title="No Plan or Bedrock traffic in this period">Utilization appears once Anthropic answers this user's Claude plan credential through the proxy.</EmptyState>;
  }
  const multiDay = spansDays(report);
  // A bucket without a Plan reading has no point (null), rather than a misleading 0 %.
  const pct = (u: number | null) => (u === null ? null : Math.round(u * 1000) / 10);
  const data = report.buckets.map((b) => ({
    label: bucketLabel(b.start, report.bucket, multiDay),
    fiveHour: pct(b.max_5h_utilization),
    sevenDay: pct(b.max_7d_utilization),
    bedrock: b.bedrock_requests,
  }));
  return (
    <div className={`h-64 ${BOX}`} role="img" aria-label="Highest 5-hour and 7-day Plan utilization and Bedrock requests over time">
      <ResponsiveContainer width="100%" height="100%">
        <ComposedChart data={data} margin={{ top: 4, right: 8, left: 0, bottom: 0 }}>
          <CartesianGrid {...grid} vertical={false} />
          <XAxis dataKey="label" tick={axis} minTickGap={12} />
          <YAxis yAxisId="pct" tick={axis} domain={[0, 100]} ticks={[0, 25, 50, 75, 100]} tickFormatter={(v: number) => `${v}%`} width={48} />
          <YAxis yAxisId="requests" orientation="right" tick={axis} width={40} {...valueAxis(maxOf(data, (d) => d.bedrock), true)} />
          <Tooltip formatter={(v, name) => (name === 'Bedrock requests' ? String(v) : `${String(v)}%`)} />
          <Legend />
          <Bar yAxisId="requests" dataKey="bedrock" name="Bedrock requests" fill={COLORS.bedrock} isAnimationActive={false} />
          <Line yAxisId="pct" dataKey="fiveHour" name="5-hour max" stroke={COLORS.fiveHour} strokeWidth={2} dot={{ r: 2 }} connectNulls isAnimationActive={false} />
          <Line yAxisId="pct" dataKey="sevenDay" name="7-day max" stroke={COLORS.sevenDay} strokeWidth={2} dot={{ r: 2 }} connectNulls isAnimationActive={false} />
        </ComposedChart>
      </ResponsiveContainer>
    </div>
  );
}

/** Per bucket: all requests and those that failed, as /admin/usage/errors counts them. */
export function ErrorsChart({ report }: { report: ErrorReport }) {
  const multiDay = spansDays(report);
  const data = report.buckets.map((b) => ({ label: bucketLabel(b.start, report.bucket, multiDay), ok: b.requests - b.errors, errors: b.errors }));
  return (
    <div className={`h-48 ${BOX}`} role="img" aria-label="Requests and errors over time">
      <ResponsiveContainer width="100%" height="100%">
        <BarChart data={data} margin={{ top: 4, right: 8, left: 0, bottom: 0 }}>
          <CartesianGrid {...grid} vertical={false} />
          <XAxis dataKey="label" tick={axis} minTickGap={12} />
          <YAxis tick={axis} width={40} {...valueAxis(maxOf(data, (d) => d.ok + d.errors), true)} />
          <Tooltip formatter={(v) => String(v)} />
          <Legend />
          <Bar dataKey="ok" name="Succeeded" stackId="r" fill={COLORS.output} isAnimationActive={false} />
          <Bar dataKey="errors" name="Failed" stackId="r" fill={COLORS.error} isAnimationActive={false} />
        </BarChart>
      </ResponsiveContainer>
    </div>
  );
}
