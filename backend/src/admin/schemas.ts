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

export const IdParams = Type.Object({ id: Type.String({ format: 'uuid' }) });
export type IdParams = Static<typeof IdParams>;

export const Page = Type.Object({
  limit: Type.Integer({ minimum: 1, maximum: 500, default: 50 }),
  offset: Type.Integer({ minimum: 0, default: 0 }),
});

export const CreateUserBody = Type.Object(
  {
    name: Type.String({ minLength: 1, maxLength: 200 }),
    description: Type.Optional(Type.Union([Type.String({ maxLength: 2000 }), Type.Null()])),
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
});

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
});
export const IssuedKey = Type.Intersect([AccessKey, Type.Object({ raw_key: Type.String() })]);
