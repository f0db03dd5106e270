-- Optional per-user request limits, enforced in memory by each proxy process (proxy/user-limits.ts).
ALTER TABLE users
  ADD COLUMN max_requests_per_minute integer CHECK (max_requests_per_minute > 0),
  ADD COLUMN max_in_flight           integer CHECK (max_in_flight > 0);
