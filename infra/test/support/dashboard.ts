import type { Template } from 'aws-cdk-lib/assertions';

export type DashboardMetric = [string, string, ...unknown[]];
export interface DashboardWidget {
  type: string;
  properties: { title?: string; metrics?: DashboardMetric[]; alarms?: unknown[] };
}

/**
 * The widgets of the stack's one dashboard. The body is an Fn::Join of JSON text and references to
 * other stacks (load balancer name, cluster id); each reference becomes the string "<ref>".
 */
export function dashboardWidgets(template: Template): { name: unknown; widgets: DashboardWidget[] } {
  const dashboards = Object.values(template.findResources('AWS::CloudWatch::Dashboard'));
  if (dashboards.length !== 1) throw new Error(`expected one dashboard, found ${dashboards.length}`);
  const props = (dashboards[0] as { Properties: { DashboardName: unknown; DashboardBody: unknown } }).Properties;
  const body = props.DashboardBody as { 'Fn::Join': [string, unknown[]] } | string;
  const text = typeof body === 'string' ? body : body['Fn::Join'][1].map((part) => (typeof part === 'string' ? part : '<ref>')).join('');
  return { name: props.DashboardName, widgets: (JSON.parse(text) as { widgets: DashboardWidget[] }).widgets };
}

/** [namespace, metric name, statistic] of every graphed metric. */
export function graphedMetrics(widgets: DashboardWidget[]): Array<{ namespace: string; name: string; stat: string | undefined }> {
  return widgets.flatMap((w) =>
    (w.properties.metrics ?? []).map((m) => {
      const options = m[m.length - 1] as { stat?: string };
      return { namespace: m[0], name: m[1], stat: options.stat };
    }),
  );
}
