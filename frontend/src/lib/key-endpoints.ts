import { api } from './api.ts';
import type { AccessKeyListItem, BedrockKeyStatus, IssuedKey, RotatedKey } from './types.ts';

/**
 * The routes the access-key panels act through: a user's keys on an admin's user page, or one's own
 * keys (the /admin/me routes) on the developer page — the same panels either way.
 */
export interface KeyEndpoints {
  list: () => Promise<{ items: AccessKeyListItem[] }>;
  issue: (region: string | null) => Promise<IssuedKey>;
  rotate: (keyId: string) => Promise<RotatedKey>;
  revoke: (keyId: string) => Promise<void>;
  putBedrockKey: (keyId: string, key: string) => Promise<BedrockKeyStatus>;
  deleteBedrockKey: (keyId: string) => Promise<void>;
  /** Only admins reset a circuit breaker. */
  resetBreaker?: (keyId: string) => Promise<void>;
}

export function userKeyEndpoints(userId: string): KeyEndpoints {
  return {
    list: () => api.accessKeys(userId),
    issue: (region) => api.issueKey(userId, region),
    rotate: api.rotateKey,
    revoke: api.revokeKey,
    putBedrockKey: api.putBedrockKey,
    deleteBedrockKey: api.deleteBedrockKey,
    resetBreaker: api.resetBreaker,
  };
}

export const myKeyEndpoints: KeyEndpoints = {
  list: api.myAccessKeys,
  issue: api.issueMyKey,
  rotate: api.rotateMyKey,
  revoke: api.revokeMyKey,
  putBedrockKey: api.putMyBedrockKey,
  deleteBedrockKey: api.deleteMyBedrockKey,
};
