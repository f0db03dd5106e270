/**
 * The rules of CloudWatch's embedded metric format (EMF) specification, as a checker for the
 * documents the proxy writes: a document CloudWatch would reject is metrics silently lost, and an
 * alarm that never fires. Returns the list of violations (empty: valid).
 *
 * Rules (docs.aws.amazon.com/AmazonCloudWatch/latest/monitoring/CloudWatch_Embedded_Metric_Format_Specification.html):
 * - the root is a JSON object with `_aws` = { Timestamp, CloudWatchMetrics } and nothing else in `_aws`;
 * - Timestamp: milliseconds since the epoch (a number), not more than 2 weeks old or 2 hours ahead;
 * - CloudWatchMetrics: a non-empty array of MetricDirective = { Namespace, Dimensions, Metrics };
 * - Namespace: 1–255 characters of [A-Za-z0-9._#:/-], not starting with "AWS/";
 * - Dimensions: an array of DimensionSets; a DimensionSet is an array of at most 30 dimension
 *   names, each a root member whose value is a non-blank ASCII string of at most 1024 characters
 *   (names: 1–250 characters, not starting with ":");
 * - Metrics: at most 100 MetricDefinitions = { Name, Unit?, StorageResolution? }, names unique, Unit a
 *   CloudWatch StandardUnit, StorageResolution 1 or 60;
 * - each metric Name is a root member whose value is a number or an array of at most 100 numbers.
 */

export const STANDARD_UNITS = new Set([
  'Seconds', 'Microseconds', 'Milliseconds', 'Bytes', 'Kilobytes', 'Megabytes', 'Gigabytes', 'Terabytes',
  'Bits', 'Kilobits', 'Megabits', 'Gigabits', 'Terabits', 'Percent', 'Count', 'Bytes/Second',
  'Kilobytes/Second', 'Megabytes/Second', 'Gigabytes/Second', 'Terabytes/Second', 'Bits/Second',
  'Kilobits/Second', 'Megabits/Second', 'Gigabits/Second', 'Terabits/Second', 'Count/Second', 'None',
]);

const isObject = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);
const onlyKeys = (o: Record<string, unknown>, allowed: string[], where: string, out: string[]) => {
  for (const k of Object.keys(o)) if (!allowed.includes(k)) out.push(`${where}: unexpected member "${k}"`);
};

export function emfViolations(doc: unknown, now = Date.now()): string[] {
  const out: string[] = [];
  if (!isObject(doc)) return ['root: not a JSON object'];
  const aws = doc._aws;
  if (!isObject(aws)) return ['_aws: missing or not an object'];
  onlyKeys(aws, ['Timestamp', 'CloudWatchMetrics'], '_aws', out);
  const ts = aws.Timestamp;
  if (typeof ts !== 'number' || !Number.isInteger(ts)) out.push('_aws.Timestamp: not an integer number of milliseconds');
  else if (ts < now - 14 * 86_400_000 || ts > now + 2 * 3_600_000) out.push('_aws.Timestamp: outside [now - 2 weeks, now + 2 hours]');
  const directives = aws.CloudWatchMetrics;
  if (!Array.isArray(directives) || directives.length === 0) return [...out, '_aws.CloudWatchMetrics: not a non-empty array'];
  directives.forEach((directive: unknown, i) => {
    const at = `_aws.CloudWatchMetrics[${i}]`;
    if (!isObject(directive)) return out.push(`${at}: not an object`);
    onlyKeys(directive, ['Namespace', 'Dimensions', 'Metrics'], at, out);
    const ns = directive.Namespace;
    if (typeof ns !== 'string' || !/^[A-Za-z0-9._#:/-]{1,255}$/.test(ns) || ns.startsWith('AWS/')) out.push(`${at}.Namespace: invalid (${String(ns)})`);
    const sets = directive.Dimensions;
    const dimensionNames = new Set<string>();
    if (!Array.isArray(sets)) out.push(`${at}.Dimensions: not an array`);
    else
      sets.forEach((set: unknown, j) => {
        if (!Array.isArray(set)) return out.push(`${at}.Dimensions[${j}]: not an array`);
        if (set.length > 30) out.push(`${at}.Dimensions[${j}]: more than 30 dimensions`);
        for (const name of set) {
          if (typeof name !== 'string' || name.length < 1 || name.length > 250 || name.startsWith(':')) {
            out.push(`${at}.Dimensions[${j}]: invalid dimension name ${JSON.stringify(name)}`);
            continue;
          }
          dimensionNames.add(name);
          const value = doc[name];
          if (typeof value !== 'string' || value.trim() === '' || value.length > 1024 || !/^[\x00-\x7f]+$/.test(value)) {
            out.push(`dimension ${name}: root value must be a non-blank ASCII string of at most 1024 characters (got ${JSON.stringify(value)})`);
          }
        }
      });
    const metrics = directive.Metrics;
    if (!Array.isArray(metrics)) return out.push(`${at}.Metrics: not an array`);
    if (metrics.length > 100) out.push(`${at}.Metrics: more than 100 metrics`);
    const names = new Set<string>();
    metrics.forEach((metric: unknown, j) => {
      const mat = `${at}.Metrics[${j}]`;
      if (!isObject(metric)) return out.push(`${mat}: not an object`);
      onlyKeys(metric, ['Name', 'Unit', 'StorageResolution'], mat, out);
      const name = metric.Name;
      if (typeof name !== 'string' || name.trim() === '' || name.length > 1024) return out.push(`${mat}.Name: invalid`);
      if (names.has(name)) out.push(`${mat}.Name: ${name} listed twice`);
      names.add(name);
      if (dimensionNames.has(name)) out.push(`${mat}.Name: ${name} is also a dimension`);
      if (metric.Unit !== undefined && (typeof metric.Unit !== 'string' || !STANDARD_UNITS.has(metric.Unit))) out.push(`${mat}.Unit: ${String(metric.Unit)} is not a CloudWatch unit`);
      if (metric.StorageResolution !== undefined && metric.StorageResolution !== 1 && metric.StorageResolution !== 60) out.push(`${mat}.StorageResolution: must be 1 or 60`);
      const value = doc[name];
      const values = Array.isArray(value) ? value : [value];
      if (Array.isArray(value) && (value.length === 0 || value.length > 100)) out.push(`metric ${name}: an array value must hold 1 to 100 numbers`);
      if (!values.every((v) => typeof v === 'number' && Number.isFinite(v))) out.push(`metric ${name}: root value must be a number or an array of numbers (got ${JSON.stringify(value)})`);
    });
  });
  return out;
}

/** EMF documents among captured log lines. */
export function emfDocuments(lines: Record<string, unknown>[]): Record<string, unknown>[] {
  return lines.filter((line) => isObject(line._aws));
}

/** The value a CloudWatch Sum statistic would report for `metric` with exactly these dimensions (none: `{}`). */
export function emfSum(docs: Record<string, unknown>[], metric: string, dimensions: Record<string, string> = {}): number | undefined {
  const wanted = Object.keys(dimensions).sort().join(',');
  let sum: number | undefined;
  for (const doc of docs) {
    const directive = (doc._aws as { CloudWatchMetrics: { Dimensions: string[][]; Metrics: { Name: string }[] }[] }).CloudWatchMetrics[0]!;
    if (!directive.Metrics.some((m) => m.Name === metric)) continue;
    const matches = directive.Dimensions.some((set) => [...set].sort().join(',') === wanted && set.every((d) => doc[d] === dimensions[d]));
    if (!matches) continue;
    const value = doc[metric] as number | number[];
    sum = (sum ?? 0) + (Array.isArray(value) ? value.reduce((a, b) => a + b, 0) : value);
  }
  return sum;
}

/** How many values CloudWatch would receive for `metric` with these dimensions (its SampleCount). */
export function emfSampleCount(docs: Record<string, unknown>[], metric: string, dimensions: Record<string, string> = {}): number {
  const wanted = Object.keys(dimensions).sort().join(',');
  let count = 0;
  for (const doc of docs) {
    const directive = (doc._aws as { CloudWatchMetrics: { Dimensions: string[][]; Metrics: { Name: string }[] }[] }).CloudWatchMetrics[0]!;
    if (!directive.Metrics.some((m) => m.Name === metric)) continue;
    if (!directive.Dimensions.some((set) => [...set].sort().join(',') === wanted && set.every((d) => doc[d] === dimensions[d]))) continue;
    const value = doc[metric];
    count += Array.isArray(value) ? value.length : 1;
  }
  return count;
}
