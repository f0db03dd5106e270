import type { UsageRecorder } from '../usage/recorder.ts';
import type { ModelMapping } from '../bedrock/models.ts';
import type { BedrockUpstream } from '../bedrock/upstream.ts';
import type { Logger } from '../observability/logger.ts';
import type { Metrics } from '../observability/metrics.ts';
import type { AccessKeyResolver } from './access-keys.ts';
import type { AddressFailures } from './address-failures.ts';
import type { BodyIntake } from './body-intake.ts';
import type { BudgetCheck } from './budget-check.ts';
import type { CircuitBreakers } from './circuit-breaker.ts';
import type { FinalFailures } from './final-failures.ts';
import type { InFlight } from './in-flight.ts';
import type { PlanUpstream } from './plan-upstream.ts';
import type { PlanWindows } from './plan-windows.ts';
import type { SessionAffinity } from './session-affinity.ts';
import type { UserLimiter } from './user-limits.ts';

/** What the hot path is given (app.ts wires it): narrow ports, each with its own tests. */
export interface ProxyDeps {
  resolver: AccessKeyResolver;
  plan: PlanUpstream;
  bedrock: BedrockUpstream;
  /** The access key's decrypted Bedrock API key, or null when none is registered. */
  bedrockKeys: { get(accessKeyId: string): Promise<string | null> };
  /** `sigv4`: the task role signs Bedrock calls, so no per-key Bedrock API key is needed. */
  bedrockAuth: 'bearer' | 'sigv4';
  bedrockRegion: string;
  modelMappings: () => readonly ModelMapping[];
  breakers: CircuitBreakers;
  /** Monthly Bedrock budgets: a reservation before each Bedrock call of a budgeted user. */
  budgets: Omit<BudgetCheck, 'logger'>;
  /** Optional per-user requests-per-minute and in-flight limits (in memory, per process). */
  userLimits: UserLimiter;
  recorder: UsageRecorder;
  logger: Logger;
  planApiKey: string | undefined;
  pingIntervalMs: number;
  /** Request metrics (CloudWatch EMF, Prometheus): each request's usage event, and every refusal. */
  metrics: Pick<Metrics, 'observe'>;
  /** Requests holding an upstream call: capped (MAX_UPSTREAM_REQUESTS), stopped when a drain runs out. */
  inFlight: InFlight;
  /** The last Plan reading of each access key (unified limit headers), and the server's default threshold. */
  planWindows: PlanWindows;
  planSwitchThreshold: number;
  /** Which provider served each Claude Code session last (stickiness while a prompt cache is warm). */
  sessions: SessionAffinity;
  /** Unauthenticated requests per client address (proxy/address-failures.ts), shared with the admin API. */
  addressFailures: AddressFailures;
  /** The bounds request bodies are read under (proxy/body-intake.ts). */
  bodyIntake: BodyIntake;
  /** Failures of both upstreams told to a stream as an SSE error, for the client's non-streaming re-send. */
  finalFailures: FinalFailures;
}
