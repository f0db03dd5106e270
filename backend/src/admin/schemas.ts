import { Type, type Static } from 'typebox';
import { PRICE_SCALE } from '../accounting/money.ts';
import { BEDROCK_GEOGRAPHIES } from '../bedrock/models.ts';

// One source of truth: these schemas validate requests, type the handlers and produce the OpenAPI
// document; contract.ts gives their static types to the dashboard and the CLI. They live here,
// apart from the routes, so that importing their types pulls in only TypeBox (and a few constants),
// never Fastify, the database or Node.

/**
 * Strings without control characters. PostgreSQL refuses NUL in text (a 500 before these), and the
 * other C0 controls have no place in a name, a search term or an id. Free text (descriptions)
 * keeps tab and newline. sendAdminError (plugin.ts) names these patterns in words.
 */
export const SINGLE_LINE_PATTERN = '^[^\\u0000-\\u001f\\u007f]*$';
export const TEXT_PATTERN = '^[^\\u0000-\\u0008\\u000b\\u000c\\u000e-\\u001f\\u007f]*$';
const Line = (options: { minLength?: number; maxLength: number; description?: string }) => Type.String({ ...options, pattern: SINGLE_LINE_PATTERN });

export const LoginBody = Type.Object(
  { username: Line({ minLength: 1, maxLength: 200 }), password: Type.String({ minLength: 1, maxLength: 1000 }) },
  { additionalProperties: false },
);
export const LoginResponse = Type.Object({
  access_token: Type.String(),
  token_type: Type.Literal('bearer'),
  expires_at: Type.String(),
});

/** A 204 answer: no body. */
export const NoContent = Type.Null({ description: 'No content' });

export const IdParams = Type.Object({ id: Type.String({ format: 'uuid' }) });
export type IdParams = Static<typeof IdParams>;

export const Page = Type.Object({
  limit: Type.Integer({ minimum: 1, maximum: 500, default: 50 }),
  // Bounded so a huge offset (1e20) is a 400, not a bigint overflow in the database.
  offset: Type.Integer({ minimum: 0, maximum: 1_000_000, default: 0 }),
});

/**
 * A string or null. One multi-type keyword rather than a union: in a union, Ajv's type coercion
 * turns null into "" in the string branch before the null branch is tried.
 */
const NullableText = (options: { maxLength: number }) => Type.Unsafe<string | null>({ type: ['string', 'null'], pattern: TEXT_PATTERN, ...options });

export const CreateUserBody = Type.Object(
  {
    name: Line({ minLength: 1, maxLength: 200 }),
    description: Type.Optional(NullableText({ maxLength: 2000 })),
  },
  { additionalProperties: false },
);

export const UserStatus = Type.Enum(['active', 'inactive', 'deleted']);
export const RoutingStrategy = Type.Enum(['plan_first', 'bedrock_only', 'plan_only']);

export const User = Type.Object({
  id: Type.String(),
  name: Type.String(),
  description: Type.Union([Type.String(), Type.Null()]),
  status: UserStatus,
  routing_strategy: RoutingStrategy,
  monthly_budget_usd: Type.Union([Type.String(), Type.Null()]),
  email: Type.Union([Type.String(), Type.Null()], { description: 'what company sign-in links a person to (PUT /users/{id}/email); null: none' }),
  created_at: Type.String(),
  updated_at: Type.String(),
  deleted_at: Type.Union([Type.String(), Type.Null()]),
});

/** A user's email: what company sign-in (oidc.ts) links a person to on their first sign-in. */
export const PutEmailBody = Type.Object({ email: Type.Union([Type.String({ format: 'email', maxLength: 320 }), Type.Null()]) }, { additionalProperties: false });
export const UserEmail = Type.Object({ user_id: Type.String(), email: Type.Union([Type.String(), Type.Null()]) });

export const UserListQuery = Type.Object(
  {
    ...Page.properties,
    status: Type.Optional(UserStatus),
    q: Type.Optional(Line({ minLength: 1, maxLength: 200, description: 'case-insensitive part of the name or the email' })),
  },
  { additionalProperties: false },
);

// AWS region names, e.g. us-east-1, ap-northeast-2, eu-central-1, us-gov-west-1.
export const Region = Type.String({ pattern: '^[a-z]{2}(-[a-z]+)+-\\d$', maxLength: 30 });

// Optional, and null when a client sends `content-type: application/json` with an empty body (admin
// plugin.ts reads that as no body, and Fastify validates no body as null).
const IssueKeyFields = Type.Object({ bedrock_region: Type.Optional(Type.Union([Region, Type.Null()])) }, { additionalProperties: false });
export const IssueKeyBody = Type.Unsafe<Static<typeof IssueKeyFields> | null>({ ...IssueKeyFields, type: ['object', 'null'] });

export const AccessKeyStatus = Type.Enum(['active', 'rotating', 'revoked']);
export const AccessKey = Type.Object({
  id: Type.String(),
  user_id: Type.String(),
  key_prefix: Type.String(),
  status: AccessKeyStatus,
  bedrock_region: Type.Union([Type.String(), Type.Null()]),
  created_at: Type.String(),
  revoked_at: Type.Union([Type.String(), Type.Null()]),
  rotation_expires_at: Type.Union([Type.String(), Type.Null()]),
  has_bedrock_key: Type.Boolean(),
});
export const IssuedKey = Type.Intersect([AccessKey, Type.Object({ raw_key: Type.String() })]);

export const UpdateKeyBody = Type.Object(
  { bedrock_region: Type.Union([Region, Type.Null()], { description: 'the key\'s own Bedrock region; null: BEDROCK_REGION' }) },
  { additionalProperties: false },
);

export const RotatedKey = Type.Intersect([
  IssuedKey,
  Type.Object({
    replaces: Type.Object({ id: Type.String(), rotation_expires_at: Type.String() }, { description: 'the old key: it keeps working until then' }),
  }),
]);

// A non-negative USD amount as numeric(14,4) holds it: a decimal string (kept exact) or a JSON number;
// null clears it. One multi-type keyword rather than a union, so Ajv's type coercion cannot turn
// null or 0 into a string (or 0 into null); the route checks the amount and says what is wrong in words.
export const BudgetUsd = Type.Unsafe<string | number | null>({
  type: ['string', 'number', 'null'],
  maxLength: 32,
  description: 'USD from 0 to 9999999999 with at most 4 decimals, e.g. "250" or 99.5; null: no budget',
});

export const UpdateUserBody = Type.Object(
  {
    name: Type.Optional(Line({ minLength: 1, maxLength: 200 })),
    description: Type.Optional(NullableText({ maxLength: 2000 })),
    routing_strategy: Type.Optional(RoutingStrategy),
    monthly_budget_usd: Type.Optional(BudgetUsd),
  },
  { additionalProperties: false },
);

export const PutBedrockKeyBody = Type.Object(
  // Bedrock API keys: long-term ones are ~130 characters, short-term (pre-signed) ones well over 1000.
  // Pasted keys often bring a newline or spaces around them (trimmed on the way in): text, not a line.
  { bedrock_api_key: Type.String({ minLength: 16, maxLength: 16_384, pattern: TEXT_PATTERN }) },
  { additionalProperties: false },
);

/** What the API says about a stored Bedrock key: never the key, only its last four characters. */
export const BedrockKeyStatus = Type.Object({
  access_key_id: Type.String(),
  configured: Type.Literal(true),
  last4: Type.String(),
  /** How its data key is wrapped: `kms` or `local` (LOCAL_ENCRYPTION_KEY). */
  encryption: Type.String(),
  created_at: Type.String(),
  updated_at: Type.String(),
});

export const Breaker = Type.Object({
  access_key_id: Type.String(),
  state: Type.String(),
  failures: Type.Integer(),
  reason: Type.Union([Type.String(), Type.Null()]),
  opened_at: Type.Union([Type.String(), Type.Null()]),
  retry_at: Type.Union([Type.String(), Type.Null()]),
  fallback_unavailable: Type.Optional(
    Type.Union([Type.Literal('no_bedrock_key'), Type.Null()], {
      description: "no_bedrock_key: the key has no Bedrock key and its user's routing is not plan_only, so its requests stay on Anthropic; null: it can fall back (given in /admin/circuit-breakers answers)",
    }),
  ),
});
export const BreakerList = Type.Object({ items: Type.Array(Breaker) });

// Fallback readiness (README, "Bedrock fallback"): what keeps a request from reaching Bedrock when it should.
export const FallbackReadiness = Type.Object({
  models_without_mapping: Type.Array(Type.String(), { description: 'models priced for anthropic that neither an admin mapping nor a shipped default maps' }),
  keys_without_bedrock_key: Type.Array(
    Type.Object({
      access_key_id: Type.String(),
      key_prefix: Type.String(),
      user_id: Type.String(),
      user_name: Type.String(),
      routing_strategy: Type.Enum(['plan_first', 'bedrock_only']),
    }),
    { description: 'active keys of active users whose routing is plan_first or bedrock_only and that have no Bedrock key' },
  ),
});

// Plan windows (README, "Plan window"): each access key's last reading of Anthropic's unified limit
// headers, what it means for routing, and the user's rule for leaving the Plan.
const NullableNumber = Type.Union([Type.Number(), Type.Null()]);
const PlanWindowReading = Type.Object({
  utilization: NullableNumber,
  resets_at: Type.Union([Type.String(), Type.Null()]),
  surpassed_threshold: NullableNumber,
});
export const PlanPark = Type.Object({
  reason: Type.Enum(['usage_limit', 'plan_threshold']),
  window: Type.String(),
  until: Type.String({ description: 'when requests go back to Anthropic' }),
});
const NullablePark = Type.Union([PlanPark, Type.Null()]);
export const PlanOverage = Type.Enum(['stay', 'move']);
export const PlanWindow = Type.Object({
  access_key_id: Type.String(),
  key_prefix: Type.String(),
  user_id: Type.String(),
  user_name: Type.String(),
  observed_at: Type.Union([Type.String(), Type.Null()], { description: 'the Plan answer the reading came from; null: none yet (an API key, or no Plan traffic)' }),
  status: Type.Union([Type.Enum(['allowed', 'allowed_warning', 'rejected']), Type.Null()]),
  claim: Type.Union([Type.String(), Type.Null()], { description: 'the binding window Anthropic named' }),
  resets_at: Type.Union([Type.String(), Type.Null()]),
  windows: Type.Object({
    five_hour: Type.Optional(PlanWindowReading),
    seven_day: Type.Optional(PlanWindowReading),
    seven_day_opus: Type.Optional(PlanWindowReading),
    seven_day_sonnet: Type.Optional(PlanWindowReading),
    overage: Type.Optional(PlanWindowReading),
  }),
  overage_status: Type.Union([Type.String(), Type.Null()]),
  /** Anthropic reported a warning threshold crossed: shown, never acted on. */
  warning: Type.Boolean(),
  threshold: Type.Number(),
  threshold_source: Type.Enum(['user', 'server']),
  overage_policy: PlanOverage,
  /** Where `plan_first` requests go now, per model family (a family's weekly window parks only it). */
  parked: Type.Object({ opus: NullablePark, sonnet: NullablePark, other: NullablePark }),
  breaker: Breaker,
});
export const PlanWindowList = Type.Object({ items: Type.Array(PlanWindow), server_threshold: Type.Number(), timezone: Type.String({ description: 'TIMEZONE, for showing the instants' }) });
export const PlanWindowQuery = Type.Object({ user_id: Type.Optional(Type.String({ format: 'uuid' })) }, { additionalProperties: false });
export const PlanSettings = Type.Object({
  user_id: Type.String(),
  switch_threshold: Type.Union([Type.Number(), Type.Null()], { description: "the user's own threshold; null: the server's" }),
  effective_threshold: Type.Number(),
  server_threshold: Type.Number(),
  overage: PlanOverage,
});
export const PutPlanSettingsBody = Type.Object(
  {
    switch_threshold: Type.Optional(Type.Unsafe<number | null>({ type: ['number', 'null'], exclusiveMinimum: 0, maximum: 1, description: '0–1 (above 0); null: the server default' })),
    overage: Type.Optional(PlanOverage),
  },
  { additionalProperties: false, minProperties: 1 },
);

/** A key as its user's key list shows it: with its Bedrock key status and this task's breaker, so no page asks per key. */
export const AccessKeyListItem = Type.Object({
  ...AccessKey.properties,
  bedrock_key: Type.Union([BedrockKeyStatus, Type.Null()], { description: 'null: no Bedrock key is set' }),
  circuit_breaker: Breaker,
});
export const AccessKeyList = Type.Object({ items: Type.Array(AccessKeyListItem) });

// Budgets: a user's monthly budget on Bedrock spend, and where this month (in TIMEZONE) stands.
const BudgetMoney = Type.String({ description: 'USD, exact decimal' });
const budgetSummaryProperties = {
  monthly_budget_usd: Type.Union([BudgetMoney, Type.Null()]),
  spent_usd: BudgetMoney,
  /** Worst-case cost of Bedrock requests still running. */
  reserved_usd: BudgetMoney,
  remaining_usd: Type.Union([BudgetMoney, Type.Null()]),
  percent_used: Type.Union([Type.Number(), Type.Null()]),
};
/** This month's figures of a budget, as the user list carries them for every row. */
export const BudgetSummary = Type.Object(budgetSummaryProperties);
export const BudgetStatus = Type.Object({
  user_id: Type.String(),
  ...budgetSummaryProperties,
  period_start: Type.String(),
  period_end: Type.String({ description: 'exclusive: when the budget resets' }),
  timezone: Type.String(),
});
export const PutBudgetBody = Type.Object({ monthly_budget_usd: BudgetUsd }, { additionalProperties: false });

export const UserListItem = Type.Object({
  ...User.properties,
  budget: Type.Object(budgetSummaryProperties, { description: "this month's Bedrock budget and spend" }),
  last_seen_at: Type.Union([Type.String(), Type.Null()], { description: "the user's newest request, in TIMEZONE; null: none yet" }),
  month_requests: Type.Integer({ description: 'requests this month (TIMEZONE), every provider and outcome' }),
  month_cost_usd: Type.String({ description: "this month's cost, USD exact decimal (Plan traffic at API prices)" }),
});
export const UserPage = Type.Object({ items: Type.Array(UserListItem), total: Type.Integer() });

/**
 * A positive whole number, or null for no limit. One multi-type keyword rather than a union: in a
 * union, Ajv's type coercion would turn 0 into null (no limit) in the null branch.
 */
const Limit = Type.Unsafe<number | null>({ type: ['integer', 'null'], minimum: 1, maximum: 1_000_000 });

export const Limits = Type.Object({
  user_id: Type.String(),
  max_requests_per_minute: Type.Union([Type.Integer(), Type.Null()]),
  max_in_flight: Type.Union([Type.Integer(), Type.Null()]),
  /** Where the limits are counted. */
  scope: Type.Literal('per_task'),
});
export const PutLimitsBody = Type.Object(
  { max_requests_per_minute: Type.Optional(Limit), max_in_flight: Type.Optional(Limit) },
  { additionalProperties: false, minProperties: 1 },
);

// Model mappings: admin rows that add to or override the shipped Anthropic → Bedrock model table.
export const ModelParams = Type.Object({
  model: Type.String({ pattern: '^[A-Za-z0-9][A-Za-z0-9._:-]{0,127}$', description: 'the Anthropic model name as clients send it' }),
});

export const PutMappingBody = Type.Object(
  {
    base_id: Type.String({
      maxLength: 300,
      // A Bedrock base id (optionally already profile-prefixed, then used verbatim) or an ARN.
      pattern: '^((global|us|us-gov|eu|apac|jp|au|ca)\\.)?anthropic\\.[a-z0-9.:-]+$|^arn:aws[a-z-]*:bedrock:[a-z0-9-]*:\\d{0,12}:[A-Za-z0-9/._:-]+$',
      description: 'Bedrock base id (anthropic.…), a profile id used verbatim, or an ARN',
    }),
    geographies: Type.Array(Type.Enum([...BEDROCK_GEOGRAPHIES]), {
      uniqueItems: true,
      default: [],
      description: 'geographies with a cross-region inference profile for the model; empty: the base id only',
    }),
  },
  { additionalProperties: false },
);

export const Mapping = Type.Object({
  model: Type.String(),
  base_id: Type.String(),
  geographies: Type.Array(Type.String()),
  created_at: Type.String(),
  updated_at: Type.String(),
});
export const DefaultMapping = Type.Object({ model: Type.String(), base_id: Type.String(), geographies: Type.Array(Type.String()) });
export const MappingList = Type.Object({ items: Type.Array(Mapping), defaults: Type.Array(DefaultMapping) });

// Model prices (USD per million tokens) with effective dates.

// A decimal string (kept exact) or a JSON number; the route checks the amount and names the field.
const PriceValue = Type.Union([Type.String({ maxLength: 24 }), Type.Number()], {
  description: `USD per million tokens, at most ${PRICE_SCALE} decimals, e.g. "3" or "0.30"`,
});
export const rateFields = {
  input_usd_per_mtok: PriceValue,
  output_usd_per_mtok: PriceValue,
  cache_write_5m_usd_per_mtok: PriceValue,
  cache_write_1h_usd_per_mtok: PriceValue,
  cache_read_usd_per_mtok: PriceValue,
};

export const PriceProvider = Type.Enum(['anthropic', 'bedrock']);
export const AddPriceBody = Type.Object(
  {
    provider: PriceProvider,
    region: Type.Optional(
      Type.Unsafe<string | null>({
        type: ['string', 'null'],
        pattern: '^(global|[a-z]{2}(-[a-z]+)+-\\d)$',
        description: 'Bedrock only: an AWS region, `global` (the global cross-region profile), or null for every other Bedrock call',
      }),
    ),
    model: Type.String({ minLength: 1, maxLength: 300, pattern: '^[A-Za-z0-9][A-Za-z0-9._:/\\[\\]-]*$', description: 'e.g. claude-opus-5-5 (dates and Bedrock prefixes are dropped)' }),
    ...rateFields,
    long_context: Type.Optional(
      Type.Union([
        // At most an int4 column holds.
        Type.Object({ threshold_tokens: Type.Integer({ minimum: 1, maximum: 2_147_483_647 }), ...rateFields }, { additionalProperties: false }),
        Type.Null(),
      ]),
    ),
    effective_from: Type.Optional(Line({ maxLength: 40, description: 'an ISO 8601 time, or YYYY-MM-DD (midnight in TIMEZONE); default: now' })),
  },
  { additionalProperties: false },
);

const PriceMoney = Type.String();
const priceRateProperties = {
  input_usd_per_mtok: PriceMoney,
  output_usd_per_mtok: PriceMoney,
  cache_write_5m_usd_per_mtok: PriceMoney,
  cache_write_1h_usd_per_mtok: PriceMoney,
  cache_read_usd_per_mtok: PriceMoney,
};
/** The five rates of a price, as answers carry them. */
export const PriceRates = Type.Object(priceRateProperties);
export const Price = Type.Object({
  id: Type.String(),
  provider: PriceProvider,
  region: Type.Union([Type.String(), Type.Null()]),
  model: Type.String(),
  ...priceRateProperties,
  long_context: Type.Union([Type.Object({ threshold_tokens: Type.Integer(), ...priceRateProperties }), Type.Null()]),
  effective_from: Type.String(),
  /** Whether this row is the one in effect now for its provider, region and model. */
  in_effect: Type.Boolean(),
});
export const PriceList = Type.Object({ items: Type.Array(Price) });

export const PriceListQuery = Type.Object(
  {
    provider: Type.Optional(PriceProvider),
    model: Type.Optional(Line({ minLength: 1, maxLength: 300 })),
    current: Type.Optional(Type.Boolean({ description: 'only the rows in effect now' })),
  },
  { additionalProperties: false },
);
export const PriceIdParams = Type.Object({ id: Type.String({ pattern: '^\\d{1,18}$' }) });

// The audit log.

/** What an audit entry can be about (also the audit log's `target_type` filter). */
export const AUDIT_TARGET_TYPES = ['admin_session', 'user', 'access_key', 'bedrock_key', 'model_mapping', 'circuit_breaker', 'model_price', 'api_token'] as const;

export const AuditQuery = Type.Object(
  {
    ...Page.properties,
    actor: Type.Optional(Line({ minLength: 1, maxLength: 200, description: 'admin username, or `system` for the server\'s own changes' })),
    action: Type.Optional(Line({ minLength: 1, maxLength: 100, description: 'e.g. `user.deactivate`, `access_key.rotate`' })),
    target_type: Type.Optional(Type.Enum([...AUDIT_TARGET_TYPES])),
    target_id: Type.Optional(Line({ minLength: 1, maxLength: 200 })),
    since: Type.Optional(Type.String({ format: 'date-time', description: 'entries at or after this instant' })),
    until: Type.Optional(Type.String({ format: 'date-time', description: 'entries before this instant' })),
  },
  { additionalProperties: false },
);

export const AuditEntry = Type.Object({
  id: Type.Integer(),
  occurred_at: Type.String(),
  actor: Type.String(),
  action: Type.String(),
  target_type: Type.String(),
  target_id: Type.Union([Type.String(), Type.Null()]),
  before: Type.Unknown({ description: 'the target\'s public view before the change (never a secret); null when it did not exist' }),
  after: Type.Unknown({ description: 'and after; null when it no longer exists' }),
  ip: Type.Union([Type.String(), Type.Null()]),
  request_id: Type.Union([Type.String(), Type.Null()]),
});
export const AuditPage = Type.Object({ items: Type.Array(AuditEntry), total: Type.Integer() });

export const Session = Type.Object({
  username: Type.String({ description: 'the signed-in person (the break-glass admin, an email, or `token:<name>` for an automation token)' }),
  role: Type.Enum(['admin', 'viewer', 'developer']),
  user_id: Type.Union([Type.String(), Type.Null()], { description: 'the user this person is; null for the break-glass admin and tokens' }),
  expires_at: Type.String(),
});

// Automation tokens for scripts, CI and the identity provider's SCIM connector (api-tokens.ts).

export const API_TOKEN_ROLES = ['admin', 'viewer', 'scim'] as const;
export const ApiToken = Type.Object({
  id: Type.String(),
  name: Type.String(),
  role: Type.Enum([...API_TOKEN_ROLES], { description: "scim: only for /scim/v2 (the identity provider's provisioning)" }),
  token_prefix: Type.String({ description: 'the first characters, to tell tokens apart' }),
  created_by: Type.String(),
  created_at: Type.String(),
  expires_at: Type.String(),
  last_used_at: Type.Union([Type.String(), Type.Null()], { description: 'to the minute' }),
  revoked_at: Type.Union([Type.String(), Type.Null()]),
  status: Type.Enum(['active', 'expired', 'revoked'], { description: 'whether the server accepts the token now; revoked and expired tokens stay listed' }),
});
export const ApiTokenList = Type.Object({ items: Type.Array(ApiToken) });
export const CreatedApiToken = Type.Intersect([ApiToken, Type.Object({ token: Type.String({ description: 'the token itself: in this response only' }) })]);
export const CreateApiTokenBody = Type.Object(
  {
    name: Line({ minLength: 1, maxLength: 100 }),
    role: Type.Enum([...API_TOKEN_ROLES]),
    expires_in_days: Type.Integer({ minimum: 1, maximum: 366, description: 'the token stops working this many days from now' }),
  },
  { additionalProperties: false },
);

// Usage reports: every period in TIMEZONE, money as exact decimal strings.

const Uuid = Type.String({ format: 'uuid' });
const LocalDate = Type.String({ pattern: '^\\d{4}-\\d{2}-\\d{2}$', description: 'YYYY-MM-DD, a day in TIMEZONE' });

export const UsageProvider = Type.Enum(['plan', 'bedrock']);
export const UsageBucket = Type.Enum(['hour', 'day', 'month']);
export const TopUsersBy = Type.Enum(['tokens', 'cost']);

const RangeQuery = {
  period: Type.Optional(Type.Enum(['day', 'week', 'month'], { description: 'the current day, ISO week (from Monday) or month in TIMEZONE' })),
  start_date: Type.Optional(LocalDate),
  end_date: Type.Optional({ ...LocalDate, description: 'YYYY-MM-DD, inclusive' }),
};
const FilterQuery = {
  user_id: Type.Optional(Uuid),
  access_key_id: Type.Optional(Uuid),
  provider: Type.Optional(UsageProvider),
  model: Type.Optional(Line({ minLength: 1, maxLength: 200, description: 'as reports name it, e.g. claude-opus-5-5' })),
};

export const UsageQuery = Type.Object(
  { ...RangeQuery, ...FilterQuery, bucket: Type.Optional(Type.Enum(['hour', 'day', 'month'], { description: 'default: hour for a day, else day' })) },
  { additionalProperties: false },
);
export const TopUsersQuery = Type.Object(
  {
    ...RangeQuery,
    provider: FilterQuery.provider,
    model: FilterQuery.model,
    by: Type.Optional(Type.Enum(['tokens', 'cost'], { default: 'tokens' })),
    limit: Type.Optional(Type.Integer({ minimum: 1, maximum: 100, default: 10 })),
  },
  { additionalProperties: false },
);
export const FallbackQuery = Type.Object({ ...RangeQuery, user_id: FilterQuery.user_id }, { additionalProperties: false });
export const Fallbacks = Type.Object({
  period: Type.Object({ start: Type.String(), end: Type.String({ description: 'exclusive' }), timezone: Type.String() }),
  requests: Type.Integer(),
  /** Requests Bedrock served (completed) because Anthropic failed, was rate-limited or the circuit was open. */
  fallback_requests: Type.Integer(),
  fallback_rate: Type.Union([Type.Number(), Type.Null()], { description: 'fallback_requests / requests; null without requests' }),
  reasons: Type.Array(Type.Object({ reason: Type.Union([Type.String(), Type.Null()]), requests: Type.Integer() })),
  /** Fallbacks Bedrock did not serve (it failed or refused too, or the client went away): not in fallback_requests. */
  failed_fallbacks: Type.Integer(),
  /** Requests whose fallback was wanted but impossible (no_bedrock_key, no_mapping): Anthropic's error went to the client. */
  fallback_unavailable: Type.Array(Type.Object({ reason: Type.String(), requests: Type.Integer() })),
});
export const PlanReportQuery = Type.Object(
  { ...RangeQuery, user_id: FilterQuery.user_id, bucket: Type.Optional(Type.Enum(['hour', 'day'], { description: 'default: hour for a day, else day' })) },
  { additionalProperties: false },
);
const PlanCapacity = Type.Object({
  keys: Type.Integer({ description: 'access keys with a Plan reading' }),
  mean_5h_utilization: NullableNumber,
  mean_7d_utilization: NullableNumber,
  parked_keys: Type.Integer({ description: 'keys whose plan_first requests go to Bedrock now (any model family)' }),
});
export const PlanReport = Type.Object({
  period: Type.Object({ start: Type.String(), end: Type.String({ description: 'exclusive' }), timezone: Type.String() }),
  bucket: Type.Enum(['hour', 'day']),
  buckets: Type.Array(
    Type.Object({ start: Type.String(), max_5h_utilization: NullableNumber, max_7d_utilization: NullableNumber, plan_requests: Type.Integer(), bedrock_requests: Type.Integer() }),
  ),
  bedrock: Type.Object({
    cost_usd: Type.String(),
    by_reason: Type.Array(Type.Object({ reason: Type.Union([Type.String(), Type.Null()]), requests: Type.Integer(), cost_usd: Type.String(), minutes: Type.Integer() })),
  }),
  plan_cost_at_api_prices_usd: Type.String(),
  /** Bedrock spend of requests moved before Anthropic's limit by the threshold. */
  spend_caused_early_usd: Type.String(),
  /** Plan traffic served after Anthropic's warning, at API prices: what a switch at the warning would have spent on Bedrock. */
  spend_avoided_late_usd: Type.String(),
  session_switches: Type.Integer(),
  switch_cache_write_cost_usd: Type.String(),
  /** Now, from the readings in memory. */
  capacity: PlanCapacity,
});
export const BreakdownQuery = Type.Object({ ...RangeQuery, user_id: FilterQuery.user_id, access_key_id: FilterQuery.access_key_id, provider: FilterQuery.provider }, { additionalProperties: false });

const UsageMoney = Type.String({ description: 'USD, exact decimal' });
const totalsProperties = {
  requests: Type.Integer(),
  /** Requests that used tokens of a model with no price: their cost is not included. */
  unpriced_requests: Type.Integer(),
  input_tokens: Type.Integer(),
  output_tokens: Type.Integer(),
  cache_read_tokens: Type.Integer(),
  cache_write_tokens: Type.Integer(),
  cache_write_5m_tokens: Type.Integer(),
  cache_write_1h_tokens: Type.Integer(),
  cost_usd: UsageMoney,
  input_cost_usd: UsageMoney,
  output_cost_usd: UsageMoney,
  cache_read_cost_usd: UsageMoney,
  cache_write_cost_usd: UsageMoney,
  cache_write_5m_cost_usd: UsageMoney,
  cache_write_1h_cost_usd: UsageMoney,
};
export const UsageTotalsJson = Type.Object(totalsProperties);
export const ReportPeriod = Type.Object({ start: Type.String(), end: Type.String({ description: 'exclusive' }), timezone: Type.String() });

export const UsageReport = Type.Object({
  period: ReportPeriod,
  bucket: UsageBucket,
  totals: UsageTotalsJson,
  buckets: Type.Array(Type.Object({ start: Type.String(), ...totalsProperties })),
});
export const TopUsers = Type.Object({
  period: ReportPeriod,
  by: TopUsersBy,
  items: Type.Array(Type.Object({ user_id: Type.String(), name: Type.Union([Type.String(), Type.Null()]), total_tokens: Type.Integer(), ...totalsProperties })),
});
export const CostBreakdown = Type.Object({
  period: ReportPeriod,
  totals: UsageTotalsJson,
  items: Type.Array(Type.Object({ provider: UsageProvider, model: Type.String(), ...totalsProperties })),
});

// The request log and the error report (README, "Requests and errors").

export const RequestOutcome = Type.Enum(['completed', 'upstream_error', 'rejected', 'aborted', 'failed']);
export const FallbackUnavailable = Type.Enum(['no_bedrock_key', 'no_mapping']);
const Instant = Type.String({ format: 'date-time', description: 'ISO 8601 instant with offset, e.g. 2026-11-01T00:00:00+09:00' });
const requestLogFilters = {
  ...FilterQuery,
  model: Type.Optional(Line({ minLength: 1, maxLength: 200, description: 'the requested or the served model, exactly' })),
  status_class: Type.Optional(Type.Enum(['2xx', '3xx', '4xx', '5xx'])),
  outcome: Type.Optional(RequestOutcome),
  code: Type.Optional(Line({ minLength: 1, maxLength: 100, description: 'error_code, else error_type, else http_<status> (as /admin/usage/errors names it)' })),
  fallback_unavailable: Type.Optional(FallbackUnavailable),
  fallback: Type.Optional(Type.Boolean({ description: 'served as a fallback to Bedrock, or not' })),
  from: Type.Optional({ ...Instant, description: 'requests at or after this instant (ISO 8601 with offset)' }),
  to: Type.Optional({ ...Instant, description: 'requests before this instant (ISO 8601 with offset)' }),
};
export const RequestLogCsvQuery = Type.Object(requestLogFilters, { additionalProperties: false });
export const RequestLogQuery = Type.Object(
  {
    ...requestLogFilters,
    limit: Type.Integer({ minimum: 1, maximum: 200, default: 50 }),
    cursor: Type.Optional(Type.String({ minLength: 1, maxLength: 200, description: 'next_cursor of the previous page' })),
  },
  { additionalProperties: false },
);

const NullableString = Type.Union([Type.String(), Type.Null()]);
export const RequestRow = Type.Object({
  id: Type.String(),
  request_id: Type.String(),
  occurred_at: Type.String({ description: 'in TIMEZONE' }),
  user_id: Type.String(),
  user_name: NullableString,
  access_key_id: Type.String(),
  key_prefix: NullableString,
  endpoint: Type.Enum(['messages', 'count_tokens']),
  provider: UsageProvider,
  is_fallback: Type.Boolean(),
  fallback_reason: NullableString,
  fallback_unavailable: NullableString,
  requested_model: NullableString,
  served_model: NullableString,
  stream: Type.Boolean(),
  status_code: Type.Integer(),
  outcome: RequestOutcome,
  error_type: NullableString,
  error_code: Type.Union([Type.String(), Type.Null()], { description: "the proxy's own code for its answer, e.g. BUDGET_EXCEEDED" }),
  stop_reason: NullableString,
  latency_ms: Type.Integer(),
  ttfb_ms: Type.Union([Type.Integer(), Type.Null()]),
  input_tokens: Type.Integer(),
  output_tokens: Type.Integer(),
  cache_read_tokens: Type.Integer(),
  cache_write_tokens: Type.Integer({ description: '5-minute and 1-hour writes' }),
  cost_usd: Type.Union([UsageMoney, Type.Null()], { description: 'null: the model has no price' }),
});
export const RequestLogPage = Type.Object({
  items: Type.Array(RequestRow),
  next_cursor: Type.Union([Type.String(), Type.Null()], { description: 'null: this is the last page' }),
  timezone: Type.String(),
});

export const ErrorReportQuery = Type.Object({ ...RangeQuery, user_id: FilterQuery.user_id, provider: FilterQuery.provider }, { additionalProperties: false });
export const ErrorReport = Type.Object({
  period: ReportPeriod,
  bucket: Type.Enum(['hour', 'day']),
  requests: Type.Integer(),
  /** Outcomes upstream_error, rejected and failed. */
  errors: Type.Integer(),
  /** The client went away: not an error. */
  aborted: Type.Integer(),
  error_rate: Type.Union([Type.Number(), Type.Null()], { description: 'errors / requests; null without requests' }),
  by_code: Type.Array(Type.Object({ code: Type.String(), status_code: Type.Integer(), requests: Type.Integer() }), { description: 'most first' }),
  buckets: Type.Array(Type.Object({ start: Type.String(), requests: Type.Integer(), errors: Type.Integer() })),
});

/** A CSV download: the rows of the JSON route, under a header of its field names. */
export const CsvFile = { description: 'CSV (UTF-8 with a byte order mark), header row first', content: { 'text/csv': { schema: Type.String() } } };
