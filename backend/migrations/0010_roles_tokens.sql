-- Automation tokens (README "Sign-in and roles"): named, with a role and an expiry, for scripts and
-- CI. Only the SHA-256 of the token is kept: the token is 256 random bits, so a fast unsalted hash
-- cannot be brute-forced and lets the token be found by an index lookup.
CREATE TABLE api_tokens (
  id            uuid PRIMARY KEY DEFAULT gen_random_uuid(),
  name          text NOT NULL,
  role          text NOT NULL CHECK (role IN ('admin', 'viewer')),
  token_hash    char(64) NOT NULL UNIQUE,
  token_prefix  text NOT NULL,
  created_by    text NOT NULL,
  created_at    timestamptz NOT NULL DEFAULT now(),
  expires_at    timestamptz NOT NULL,
  last_used_at  timestamptz,
  revoked_at    timestamptz
);

-- The person behind a user, as the identity provider names them: a first company sign-in links to
-- the user with the same email. One live user per email, whatever its case.
ALTER TABLE users ADD COLUMN email text;
CREATE UNIQUE INDEX users_email_key ON users (lower(email)) WHERE email IS NOT NULL AND deleted_at IS NULL;
