-- What a database must keep for its whole life, whatever the environment of the task that opens it
-- (README "Configuration"). One row. time_zone: the IANA zone its usage_rollups hour/day/month
-- buckets and budget_ledgers months are cut in; NULL until a task first starts on it (main.ts).
CREATE TABLE settings (
  singleton  boolean PRIMARY KEY DEFAULT true CHECK (singleton),
  time_zone  text,
  updated_at timestamptz NOT NULL DEFAULT now()
);
INSERT INTO settings DEFAULT VALUES;
