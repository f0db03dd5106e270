-- The admin control plane: the audit log, tokens ended by logout, and the rotation sweep's index.

-- Every admin change: who, what, which target, before/after (public views only, never secrets),
-- when and from where. The server's own changes (a rotated key reaching its expiry) have actor 'system'.
CREATE TABLE admin_audit_log (
  id          bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
  occurred_at timestamptz NOT NULL DEFAULT now(),
  actor       text NOT NULL,
  action      text NOT NULL,
  target_type text NOT NULL,
  target_id   text,
  before      jsonb,
  after       jsonb,
  ip          text,
  request_id  text
);
CREATE INDEX admin_audit_log_time ON admin_audit_log (occurred_at DESC, id DESC);
CREATE INDEX admin_audit_log_target ON admin_audit_log (target_type, target_id, occurred_at DESC);
CREATE INDEX admin_audit_log_action ON admin_audit_log (action, occurred_at DESC);

-- A trail that can be edited proves nothing: rows can be added, never changed or removed.
CREATE FUNCTION admin_audit_log_append_only() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  RAISE EXCEPTION 'admin_audit_log is append-only';
END
$$;
CREATE TRIGGER admin_audit_log_append_only BEFORE UPDATE OR DELETE ON admin_audit_log
  FOR EACH ROW EXECUTE FUNCTION admin_audit_log_append_only();

-- Admin tokens (JWT ids) ended by logout before they expire; rows past expires_at are swept.
CREATE TABLE admin_token_revocations (
  jti        text PRIMARY KEY,
  expires_at timestamptz NOT NULL,
  revoked_at timestamptz NOT NULL DEFAULT now()
);

-- The sweep that revokes rotated keys at the end of their grace period finds them without a scan.
CREATE INDEX access_keys_rotating ON access_keys (rotation_expires_at) WHERE status = 'rotating';
