import { describe, expect, it } from 'vitest';
import { loadConfig } from '../../../src/config.ts';

const prod = {
  ENVIRONMENT: 'prod',
  KEY_HASHER_SECRET: 'kF3q9vLx2RmT8wYp4NcZ7hJd1sGbQeUa6',
  ADMIN_CREDENTIALS: '{"username":"admin","password":"a-long-admin-passphrase"}',
  LOCAL_ENCRYPTION_KEY: Buffer.from(Array.from({ length: 32 }, (_, i) => i * 7 + 1)).toString('base64'),
};

describe('operations settings', () => {
  it('emits CloudWatch metrics by default in prod and staging only', () => {
    expect(loadConfig(prod).metrics).toBe('cloudwatch');
    expect(loadConfig({ ...prod, ENVIRONMENT: 'staging' }).metrics).toBe('cloudwatch');
    expect(loadConfig({}).metrics).toBe('off');
    expect(loadConfig({ ...prod, ENVIRONMENT: 'test' }).metrics).toBe('off');
    expect(loadConfig({ ...prod, ENVIRONMENT: 'PROD', METRICS: 'auto' }).metrics).toBe('cloudwatch');
    for (const mode of ['cloudwatch', 'prometheus', 'both', 'off'] as const) {
      expect(loadConfig({ METRICS: mode }).metrics).toBe(mode);
      expect(loadConfig({ ...prod, METRICS: mode.toUpperCase() }).metrics).toBe(mode);
    }
    expect(() => loadConfig({ METRICS: 'statsd' })).toThrow('METRICS: must be one of cloudwatch, prometheus, both, off (got "statsd")');
  });

  it('reads the flush interval, the upstream cap and the shutdown delay', () => {
    const defaults = loadConfig({});
    expect(defaults).toMatchObject({ metricsFlushIntervalMs: 60_000, maxUpstreamRequests: 1000, shutdownDelayMs: 5_000, shutdownDrainMs: 120_000 });
    expect(loadConfig({ METRICS_FLUSH_INTERVAL: '0.25', MAX_UPSTREAM_REQUESTS: '3', SHUTDOWN_DELAY_SECONDS: '0' })).toMatchObject({
      metricsFlushIntervalMs: 250,
      maxUpstreamRequests: 3,
      shutdownDelayMs: 0,
    });
    expect(loadConfig({ SHUTDOWN_DELAY_SECONDS: '2.5s' }).shutdownDelayMs).toBe(2_500);
    expect(() => loadConfig({ SHUTDOWN_DELAY_SECONDS: '-1' })).toThrow('SHUTDOWN_DELAY_SECONDS: must be a number of seconds, 0 or more (got "-1")');
    expect(() => loadConfig({ MAX_UPSTREAM_REQUESTS: '0' })).toThrow(/^MAX_UPSTREAM_REQUESTS: must be an integer from 1 to 100000/);
    expect(() => loadConfig({ METRICS_FLUSH_INTERVAL: '0' })).toThrow(/^METRICS_FLUSH_INTERVAL: /);
  });
});
