-- The Bedrock API key registered for an access key (envelope-encrypted), and admin model mappings.
CREATE TABLE bedrock_keys (
  access_key_id uuid PRIMARY KEY REFERENCES access_keys (id) ON DELETE CASCADE,
  -- version byte, then the wrapped data key, IV, tag and ciphertext (security/envelope.ts)
  encrypted_key bytea NOT NULL,
  last4         text NOT NULL,
  created_at    timestamptz NOT NULL DEFAULT now(),
  rotated_at    timestamptz NOT NULL DEFAULT now()
);

-- Rows here add to or override the shipped defaults (bedrock/models.ts): Anthropic name → Bedrock base id.
CREATE TABLE model_mappings (
  model       text PRIMARY KEY,
  base_id     text NOT NULL,
  -- inference-profile geographies the model has, e.g. {us,eu,apac,global}; empty: base id only
  geographies text[] NOT NULL DEFAULT '{}',
  created_at  timestamptz NOT NULL DEFAULT now(),
  updated_at  timestamptz NOT NULL DEFAULT now()
);
