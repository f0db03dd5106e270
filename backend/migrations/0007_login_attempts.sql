-- Admin login attempts, shared by every task (README, "Admin login"): one row per counter — an
-- (address, username) pair, or an address across usernames — keyed by a hash of what it counts.
-- An attempt is counted before its password is checked, in one INSERT … ON CONFLICT DO UPDATE
-- (db/login-attempt-repository.ts); rows past expires_at are swept.
CREATE TABLE login_attempts (
  key           text PRIMARY KEY,
  -- Admitted attempts within the window (epoch ms, oldest first); never more than max_attempts.
  attempts      bigint[] NOT NULL,
  max_attempts  integer NOT NULL CHECK (max_attempts > 0),
  -- Whether the counter's latest attempt was admitted (what the statement's RETURNING reports).
  last_admitted boolean NOT NULL,
  -- The newest admitted attempt plus the window: after it the row counts nothing.
  expires_at    timestamptz NOT NULL
);
CREATE INDEX login_attempts_expires_at ON login_attempts (expires_at);
