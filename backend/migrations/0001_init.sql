-- Users, their access keys, and one row per proxied request.
CREATE TABLE users (
  id                 uuid PRIMARY KEY DEFAULT gen_random_uuid(),
  name               text NOT NULL,
  description        text,
  status             text NOT NULL DEFAULT 'active' CHECK (status IN ('active', 'inactive', 'deleted')),
  routing_strategy   text NOT NULL DEFAULT 'plan_first' CHECK (routing_strategy IN ('plan_first', 'bedrock_only', 'plan_only')),
  monthly_budget_usd numeric(14, 4) CHECK (monthly_budget_usd >= 0),
  created_at         timestamptz NOT NULL DEFAULT now(),
  updated_at         timestamptz NOT NULL DEFAULT now(),
  deleted_at         timestamptz
);
CREATE UNIQUE INDEX users_live_name ON users (lower(name)) WHERE deleted_at IS NULL;

CREATE TABLE access_keys (
  id                  uuid PRIMARY KEY DEFAULT gen_random_uuid(),
  user_id             uuid NOT NULL REFERENCES users (id),
  key_hash            char(64) NOT NULL UNIQUE,
  key_prefix          text NOT NULL,
  status              text NOT NULL DEFAULT 'active' CHECK (status IN ('active', 'rotating', 'revoked')),
  bedrock_region      text,
  created_at          timestamptz NOT NULL DEFAULT now(),
  updated_at          timestamptz NOT NULL DEFAULT now(),
  revoked_at          timestamptz,
  rotation_expires_at timestamptz
);
CREATE INDEX access_keys_user ON access_keys (user_id);

CREATE TABLE usage_events (
  id                    bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
  request_id            text NOT NULL,
  occurred_at           timestamptz NOT NULL,
  user_id               uuid NOT NULL REFERENCES users (id),
  access_key_id         uuid NOT NULL REFERENCES access_keys (id),
  endpoint              text NOT NULL CHECK (endpoint IN ('messages', 'count_tokens')),
  provider              text NOT NULL CHECK (provider IN ('plan', 'bedrock')),
  is_fallback           boolean NOT NULL DEFAULT false,
  fallback_reason       text,
  requested_model       text,
  served_model          text,
  stream                boolean NOT NULL,
  status_code           integer NOT NULL,
  outcome               text NOT NULL CHECK (outcome IN ('completed', 'upstream_error', 'rejected', 'aborted', 'failed')),
  error_type            text,
  stop_reason           text,
  input_tokens          integer NOT NULL DEFAULT 0,
  output_tokens         integer NOT NULL DEFAULT 0,
  cache_read_tokens     integer NOT NULL DEFAULT 0,
  cache_write_5m_tokens integer NOT NULL DEFAULT 0,
  cache_write_1h_tokens integer NOT NULL DEFAULT 0,
  cost_usd              numeric(18, 8),
  price_snapshot        jsonb,
  latency_ms            integer NOT NULL,
  ttfb_ms               integer,
  upstream_request_id   text
);
-- A replayed batch (after a database outage) must not count twice.
CREATE UNIQUE INDEX usage_events_request ON usage_events (request_id);
CREATE INDEX usage_events_user_time ON usage_events (user_id, occurred_at);
CREATE INDEX usage_events_time ON usage_events (occurred_at);
