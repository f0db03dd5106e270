-- SCIM provisioning (README "Sign-in and roles"): the identity provider authenticates with an
-- automation token of its own kind, which opens /scim/v2 and nothing of /admin.
ALTER TABLE api_tokens DROP CONSTRAINT api_tokens_role_check;
ALTER TABLE api_tokens ADD CONSTRAINT api_tokens_role_check CHECK (role IN ('admin', 'viewer', 'scim'));
