import { Type, type Static } from 'typebox';

// One source of truth: these schemas validate requests and type the handlers.

export const LoginBody = Type.Object(
  { username: Type.String({ minLength: 1, maxLength: 200 }), password: Type.String({ minLength: 1, maxLength: 1000 }) },
  { additionalProperties: false },
);
export const LoginResponse = Type.Object({
  access_token: Type.String(),
  token_type: Type.Literal('bearer'),
  expires_at: Type.String(),
});

/** A 204 answer: no body. */
export const NoContent = Type.Null({ description: 'No content' });

export const IdParams = Type.Object({ id: Type.String({ format: 'uuid' }) });
export type IdParams = Static<typeof IdParams>;

export const Page = Type.Object({
  limit: Type.Integer({ minimum: 1, maximum: 500, default: 50 }),
  offset: Type.Integer({ minimum: 0, default: 0 }),
});

/**
 * A string or null. One multi-type keyword rather than a union: in a union, Ajv's type coercion
 * turns null into "" in the string branch before the null branch is tried.
 */
const NullableString = (options: { maxLength: number }) => Type.Unsafe<string | null>({ type: ['string', 'null'], ...options });

export const CreateUserBody = Type.Object(
  {
    name: Type.String({ minLength: 1, maxLength: 200 }),
    description: Type.Optional(NullableString({ maxLength: 2000 })),
  },
  { additionalProperties: false },
);

export const User = Type.Object({
  id: Type.String(),
  name: Type.String(),
  description: Type.Union([Type.String(), Type.Null()]),
  status: Type.String(),
  routing_strategy: Type.String(),
  monthly_budget_usd: Type.Union([Type.String(), Type.Null()]),
  created_at: Type.String(),
  updated_at: Type.String(),
  deleted_at: Type.Union([Type.String(), Type.Null()]),
});

export const UserStatus = Type.Enum(['active', 'inactive', 'deleted']);
export const UserListQuery = Type.Object(
  {
    ...Page.properties,
    status: Type.Optional(UserStatus),
    q: Type.Optional(Type.String({ minLength: 1, maxLength: 200, description: 'case-insensitive part of the name' })),
  },
  { additionalProperties: false },
);

// AWS region names, e.g. us-east-1, ap-northeast-2, eu-central-1, us-gov-west-1.
export const Region = Type.String({ pattern: '^[a-z]{2}(-[a-z]+)+-\\d$', maxLength: 30 });

export const IssueKeyBody = Type.Object(
  { bedrock_region: Type.Optional(Type.Union([Region, Type.Null()])) },
  { additionalProperties: false },
);

export const AccessKey = Type.Object({
  id: Type.String(),
  user_id: Type.String(),
  key_prefix: Type.String(),
  status: Type.String(),
  bedrock_region: Type.Union([Type.String(), Type.Null()]),
  created_at: Type.String(),
  revoked_at: Type.Union([Type.String(), Type.Null()]),
  rotation_expires_at: Type.Union([Type.String(), Type.Null()]),
  has_bedrock_key: Type.Boolean(),
});
export const IssuedKey = Type.Intersect([AccessKey, Type.Object({ raw_key: Type.String() })]);

export const RoutingStrategy = Type.Enum(['plan_first', 'bedrock_only', 'plan_only']);

// A non-negative USD amount as numeric(14,4) holds it: a decimal string (kept exact) or a JSON number;
// null clears it. One multi-type keyword rather than a union, so Ajv's type coercion cannot turn
// null or 0 into a string (or 0 into null); the route checks the amount and says what is wrong in words.
export const BudgetUsd = Type.Unsafe<string | number | null>({
  type: ['string', 'number', 'null'],
  maxLength: 32,
  description: 'USD from 0 to 9999999999 with at most 4 decimals, e.g. "250" or 99.5; null: no budget',
});

export const UpdateUserBody = Type.Object(
  {
    name: Type.Optional(Type.String({ minLength: 1, maxLength: 200 })),
    description: Type.Optional(NullableString({ maxLength: 2000 })),
    routing_strategy: Type.Optional(RoutingStrategy),
    monthly_budget_usd: Type.Optional(BudgetUsd),
  },
  { additionalProperties: false },
);

export const PutBedrockKeyBody = Type.Object(
  // Bedrock API keys: long-term ones are ~130 characters, short-term (pre-signed) ones well over 1000.
  { bedrock_api_key: Type.String({ minLength: 16, maxLength: 16_384 }) },
  { additionalProperties: false },
);

/** What the API says about a stored Bedrock key: never the key, only its last four characters. */
export const BedrockKeyStatus = Type.Object({
  access_key_id: Type.String(),
  configured: Type.Literal(true),
  last4: Type.String(),
  /** How its data key is wrapped: `kms` or `local` (LOCAL_ENCRYPTION_KEY). */
  encryption: Type.String(),
  created_at: Type.String(),
  updated_at: Type.String(),
});
