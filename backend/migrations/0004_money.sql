-- Money: prices, the cost of each request, rollups for reports, and Bedrock budgets.
-- Costs are unconstrained numeric so they stay exact: prices have at most 6 decimals, so a cost
-- (tokens × price / 1e6) has at most 12, and sums of costs no more.

-- Relaxing numeric(18,8) to numeric rewrites nothing; the column was always null until now.
ALTER TABLE usage_events ALTER COLUMN cost_usd TYPE numeric;
ALTER TABLE usage_events
  ADD COLUMN input_cost_usd          numeric,
  ADD COLUMN output_cost_usd         numeric,
  ADD COLUMN cache_read_cost_usd     numeric,
  ADD COLUMN cache_write_5m_cost_usd numeric,
  ADD COLUMN cache_write_1h_cost_usd numeric,
  -- Bedrock: the AWS region the call went to
  ADD COLUMN region                  text,
  -- Bedrock with a budget: the reservation the request held (settled when this row was written)
  ADD COLUMN budget_reservation_id   bigint;

-- USD per million tokens, each row in effect from effective_from until a later row for the same
-- provider, region and model. Rows are history: costs keep a snapshot of the row they used.
CREATE TABLE model_prices (
  id                            bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
  provider                      text NOT NULL CHECK (provider IN ('anthropic', 'bedrock')),
  -- Bedrock: an AWS region, 'global' (the global cross-region profile) or null (any other call)
  region                        text CHECK (region IS NULL OR provider = 'bedrock'),
  model                         text NOT NULL,
  input_usd_per_mtok            numeric(12, 6) NOT NULL CHECK (input_usd_per_mtok >= 0),
  output_usd_per_mtok           numeric(12, 6) NOT NULL CHECK (output_usd_per_mtok >= 0),
  cache_write_5m_usd_per_mtok   numeric(12, 6) NOT NULL CHECK (cache_write_5m_usd_per_mtok >= 0),
  cache_write_1h_usd_per_mtok   numeric(12, 6) NOT NULL CHECK (cache_write_1h_usd_per_mtok >= 0),
  cache_read_usd_per_mtok       numeric(12, 6) NOT NULL CHECK (cache_read_usd_per_mtok >= 0),
  -- Prompts (input + cache reads + writes) above the threshold pay the long_context_* rates on every token.
  long_context_threshold_tokens integer CHECK (long_context_threshold_tokens > 0),
  long_context_input_usd_per_mtok          numeric(12, 6) CHECK (long_context_input_usd_per_mtok >= 0),
  long_context_output_usd_per_mtok         numeric(12, 6) CHECK (long_context_output_usd_per_mtok >= 0),
  long_context_cache_write_5m_usd_per_mtok numeric(12, 6) CHECK (long_context_cache_write_5m_usd_per_mtok >= 0),
  long_context_cache_write_1h_usd_per_mtok numeric(12, 6) CHECK (long_context_cache_write_1h_usd_per_mtok >= 0),
  long_context_cache_read_usd_per_mtok     numeric(12, 6) CHECK (long_context_cache_read_usd_per_mtok >= 0),
  effective_from                timestamptz NOT NULL,
  created_at                    timestamptz NOT NULL DEFAULT now(),
  CHECK (
    (long_context_threshold_tokens IS NULL) = (long_context_input_usd_per_mtok IS NULL)
    AND (long_context_threshold_tokens IS NULL) = (long_context_output_usd_per_mtok IS NULL)
    AND (long_context_threshold_tokens IS NULL) = (long_context_cache_write_5m_usd_per_mtok IS NULL)
    AND (long_context_threshold_tokens IS NULL) = (long_context_cache_write_1h_usd_per_mtok IS NULL)
    AND (long_context_threshold_tokens IS NULL) = (long_context_cache_read_usd_per_mtok IS NULL)
  )
);
CREATE UNIQUE INDEX model_prices_key ON model_prices (provider, coalesce(region, ''), model, effective_from);

-- Usage summed per bucket (hour, day, month starting in TIMEZONE) and dimension, written in the
-- same transaction as the events it sums. Derived data: no foreign keys to slow the writer.
CREATE TABLE usage_rollups (
  granularity             text NOT NULL CHECK (granularity IN ('hour', 'day', 'month')),
  bucket_start            timestamptz NOT NULL,
  user_id                 uuid NOT NULL,
  access_key_id           uuid NOT NULL,
  provider                text NOT NULL CHECK (provider IN ('plan', 'bedrock')),
  model                   text NOT NULL,
  requests                bigint NOT NULL DEFAULT 0,
  -- requests that used tokens but had no price (their cost is not in the sums)
  unpriced_requests       bigint NOT NULL DEFAULT 0,
  input_tokens            bigint NOT NULL DEFAULT 0,
  output_tokens           bigint NOT NULL DEFAULT 0,
  cache_read_tokens       bigint NOT NULL DEFAULT 0,
  cache_write_5m_tokens   bigint NOT NULL DEFAULT 0,
  cache_write_1h_tokens   bigint NOT NULL DEFAULT 0,
  input_cost_usd          numeric NOT NULL DEFAULT 0,
  output_cost_usd         numeric NOT NULL DEFAULT 0,
  cache_read_cost_usd     numeric NOT NULL DEFAULT 0,
  cache_write_5m_cost_usd numeric NOT NULL DEFAULT 0,
  cache_write_1h_cost_usd numeric NOT NULL DEFAULT 0,
  PRIMARY KEY (granularity, bucket_start, user_id, access_key_id, provider, model)
);
CREATE INDEX usage_rollups_user ON usage_rollups (user_id, granularity, bucket_start);

-- One row per user and budget month (TIMEZONE): Bedrock spend recorded so far, and the sum of the
-- reservations of Bedrock requests still running. A reservation is one conditional update of this
-- row, so concurrent requests in any number of processes are admitted one at a time.
CREATE TABLE budget_ledgers (
  user_id      uuid NOT NULL,
  period_start timestamptz NOT NULL,
  spent_usd    numeric NOT NULL DEFAULT 0,
  reserved_usd numeric NOT NULL DEFAULT 0 CHECK (reserved_usd >= 0),
  updated_at   timestamptz NOT NULL DEFAULT now(),
  PRIMARY KEY (user_id, period_start)
);

-- The reservations behind budget_ledgers.reserved_usd. Whoever deletes a row (the usage writer
-- settling its request, or the sweeper once it expired) releases its amount, so each is released once.
CREATE TABLE budget_reservations (
  id           bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
  user_id      uuid NOT NULL,
  period_start timestamptz NOT NULL,
  amount_usd   numeric NOT NULL CHECK (amount_usd >= 0),
  request_id   text NOT NULL,
  created_at   timestamptz NOT NULL DEFAULT now(),
  expires_at   timestamptz NOT NULL
);
CREATE INDEX budget_reservations_expiry ON budget_reservations (expires_at);
