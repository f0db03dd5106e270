import { describe, expect, it } from 'vitest';
import {
  addedP99,
  answers,
  developersPerTask,
  lastWithin,
  longStepFailure,
  OPEN_STREAMS_PER_DEVELOPER,
  renderSizing,
  REQUESTS_PER_SECOND_PER_DEVELOPER,
  stepFailure,
  type LongStep,
  type SizingReport,
  type Step,
} from '../src/sizing-results.ts';

const step = (concurrency: number, rps: number, ttfbP99: number, extra: Partial<Step> = {}): Step => ({
  concurrency,
  rps,
  ttfbP50: ttfbP99 / 2,
  ttfbP99,
  directTtfbP99: 3,
  errors: 0,
  incomplete: 0,
  reasons: {},
  cpuPercent: 40,
  ...extra,
});

const longStep = (streams: number, probeTtfbP99: number, extra: Partial<LongStep> = {}): LongStep => ({
  streams,
  opened: true,
  openedInTime: streams,
  openWaitMs: 11_200,
  probeTtfbP50: 4,
  probeTtfbP99,
  directProbeTtfbP99: 3,
  errors: 0,
  incomplete: 0,
  reasons: {},
  peakRssMb: 200,
  cpuPercent: 20,
  ...extra,
});

describe('the request pattern', () => {
  it('is one request every 20 s streaming 15 s: 0.05 req/s and 0.75 open streams per developer', () => {
    expect(REQUESTS_PER_SECOND_PER_DEVELOPER).toBeCloseTo(0.05);
    expect(OPEN_STREAMS_PER_DEVELOPER).toBeCloseTo(0.75);
  });

  it('developers per task is the smaller of the two capacities, in whole developers', () => {
    // 1,000 short streams/s of 21 writes = 105 answers/s of 200 writes = 2,100 developers at 0.05 req/s each.
    expect(developersPerTask({ requestsPerSecond: 1000, openStreams: 3000 })).toEqual({ byRequests: 2100, byStreams: 4000, developers: 2100, limitedBy: 'requests per second' });
    expect(developersPerTask({ requestsPerSecond: 1000, openStreams: 1000 })).toEqual({ byRequests: 2100, byStreams: 1333, developers: 1333, limitedBy: 'open streams' });
    expect(developersPerTask({ requestsPerSecond: 0, openStreams: 1000 }).developers).toBe(0);
  });
});

describe('steps', () => {
  it('a step is over the limit with an error, an incomplete stream or more than 50 ms added at p99', () => {
    expect(stepFailure(step(10, 100, 53))).toBeUndefined();
    expect(addedP99(step(10, 100, 53))).toBe(50);
    expect(stepFailure(step(10, 100, 53.5))).toBe('p99 TTFB +50.5 ms over direct');
    expect(stepFailure(step(10, 100, 5, { incomplete: 1, reasons: { 'no message_stop': 1 } }))).toBe('0 errors, 1 incomplete (no message_stop ×1)');
    expect(longStepFailure(longStep(1000, 40, { errors: 30, reasons: { 'status 529': 30 } }))).toBe('30 errors, 0 incomplete (status 529 ×30)');
    // No samples at all (everything failed or timed out) is not within the limit.
    expect(stepFailure(step(10, 0, NaN))).toMatch(/over direct/);
  });

  it('long streams also need every stream open and the RSS under 1 GiB', () => {
    expect(longStepFailure(longStep(1000, 40))).toBeUndefined();
    expect(longStepFailure(longStep(2000, 40, { opened: false, openedInTime: 1024 }))).toBe('1024 of 2000 streams had their first byte within 11.2 s');
    expect(longStepFailure(longStep(1000, 40, { peakRssMb: 1100 }))).toBe('peak RSS 1100 MB');
    expect(longStepFailure(longStep(1000, 60))).toBe('probe p99 TTFB +57.0 ms over direct');
  });

  it('the capacity is the highest step before the first one over the limit', () => {
    const steps = [step(5, 50, 4), step(10, 100, 6), step(20, 180, 70), step(30, 200, 20)];
    expect(lastWithin(steps, stepFailure)?.concurrency).toBe(10);
    expect(lastWithin([step(5, 50, 90)], stepFailure)).toBeUndefined();
  });
});

describe('answers', () => {
  const report: SizingReport = {
    date: '2026-01-01T00:00:00.000Z',
    machine: 'test',
    source: 'abc123',
    database: 'PostgreSQL',
    command: 'npm run bench -- --sizing',
    quick: false,
    cpuLimit: 'cgroup v1',
    scale: 1,
    plan: [step(5, 50, 4), step(10, 100, 6), step(20, 150, 80)],
    bedrock: [step(5, 40, 10), step(10, 60, 60)],
    longSeconds: 20,
    long: [longStep(250, 10), longStep(500, 20), longStep(1000, 80)],
    notes: [],
  };

  it('per path: req/s of the best step, the long-stream capacity, developers per task', () => {
    const [plan, bedrock] = answers(report);
    expect(plan).toMatchObject({ path: 'Plan', capacity: { requestsPerSecond: 100, openStreams: 500 }, developers: { byRequests: 210, byStreams: 666, developers: 210, limitedBy: 'requests per second' } });
    expect(bedrock).toMatchObject({ path: 'Bedrock', capacity: { requestsPerSecond: 40, openStreams: 500 }, developers: { developers: 84 } });
  });

  it('scales the figures when one whole core was measured instead of half of one', () => {
    const [plan] = answers({ ...report, scale: 0.5 });
    expect(plan!.capacity).toEqual({ requestsPerSecond: 50, openStreams: 250 });
  });

  it('renders the answer first and every step with its verdict', () => {
    const md = renderSizing(report);
    expect(md).toContain('- Plan: 100 streamed req/s sustained (closed loop at concurrency 10, p99 TTFB +3.00 ms over direct), which is 10.5 Claude Code answers/s of 200 writes; 500 concurrent long streams; **210 developers per task**');
    expect(md).toContain('| 20 | 150 | 40.0 / 80.0 | 3.00 | +77.0 | 0 / 0 | 40 % | no: p99 TTFB +77.0 ms over direct |');
    expect(md).toContain('| 1000 | 4.00 / 80.0 | 3.00 | +77.0 | 0 / 0 | 200 | 20 % | no: probe p99 TTFB +77.0 ms over direct |');
    expect(md).toContain('0.05 req/s and 0.75 open streams per developer');
  });
});
