-- Plan windows (README, "Plan window"): each user's switch rule, each access key's last reading of
-- Anthropic's unified limit headers (shared between tasks, kept across restarts), and what each
-- request saw of the Plan.
ALTER TABLE users
  ADD COLUMN plan_switch_threshold double precision CHECK (plan_switch_threshold > 0 AND plan_switch_threshold <= 1),
  ADD COLUMN plan_overage          text NOT NULL DEFAULT 'move' CHECK (plan_overage IN ('stay', 'move'));

CREATE TABLE plan_windows (
  access_key_id uuid PRIMARY KEY REFERENCES access_keys (id),
  user_id       uuid NOT NULL REFERENCES users (id),
  observed_at   timestamptz NOT NULL,
  limits        jsonb NOT NULL,
  updated_at    timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX plan_windows_updated_at ON plan_windows (updated_at);

ALTER TABLE usage_events
  ADD COLUMN plan_status         text,
  ADD COLUMN plan_5h_utilization real,
  ADD COLUMN plan_7d_utilization real,
  -- The first request of a Claude Code session on a provider after the other served it: its cache
  -- writes are the price of the switch.
  ADD COLUMN provider_switch     boolean NOT NULL DEFAULT false;
