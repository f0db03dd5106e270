import type { FallbackReadiness } from '../lib/types.ts';
import { Link } from '../lib/router.tsx';

type KeyWithoutBedrockKey = FallbackReadiness['keys_without_bedrock_key'][number];

/** What a key without a Bedrock key means, by its user's routing strategy (backend/src/proxy/routing.ts). */
const CONSEQUENCE: Record<KeyWithoutBedrockKey['routing_strategy'], { routed: string; then: string; testId: string }> = {
  plan_first: { routed: 'routed Plan first', then: "when Anthropic refuses, they get Anthropic's error.", testId: 'readiness-plan-first' },
  bedrock_only: { routed: 'routed Bedrock only', then: 'their requests are refused (PROXY_NO_BEDROCK_KEY).', testId: 'readiness-bedrock-only' },
};

/**
 * What cannot fall back to Bedrock now (GET /admin/fallback-readiness): models with a price but no
 * Bedrock mapping, and keys of plan_first or bedrock_only users without a Bedrock key, each case
 * in its own words. Nothing when everything can.
 */
export function ReadinessBanner({ readiness }: { readiness: FallbackReadiness | undefined }) {
  if (!readiness) return null;
  const models = readiness.models_without_mapping;
  const keys = readiness.keys_without_bedrock_key;
  if (models.length === 0 && keys.length === 0) return null;
  return (
    <section aria-label="Fallback readiness" data-testid="readiness" className="rounded-md border border-amber-400 bg-amber-50 dark:bg-amber-950 px-4 py-3 text-sm text-amber-900 dark:text-amber-100">
      <h2 className="font-semibold">Some requests cannot fall back to Bedrock</h2>
      {models.length > 0 && (
        <p className="mt-1" data-testid="readiness-models">
          {models.length === 1 ? 'A model has' : `${models.length} models have`} no Bedrock mapping:{' '}
          <span className="font-mono text-xs">{models.join(', ')}</span>.{' '}
          <Link to="/model-mappings" className="font-medium underline">
            Add a mapping
          </Link>
        </p>
      )}
      <UsersWithoutBedrockKey keys={keys.filter((k) => k.routing_strategy === 'plan_first')} strategy="plan_first" />
      <UsersWithoutBedrockKey keys={keys.filter((k) => k.routing_strategy === 'bedrock_only')} strategy="bedrock_only" />
    </section>
  );
}

/** The users of one routing strategy with keys without a Bedrock key, each with those keys' prefixes. */
function UsersWithoutBedrockKey({ keys, strategy }: { keys: KeyWithoutBedrockKey[]; strategy: KeyWithoutBedrockKey['routing_strategy'] }) {
  const byUser = new Map<string, { name: string; prefixes: string[] }>();
  for (const k of keys) {
    const entry = byUser.get(k.user_id) ?? { name: k.user_name, prefixes: [] };
    entry.prefixes.push(k.key_prefix);
    byUser.set(k.user_id, entry);
  }
  if (byUser.size === 0) return null;
  const { routed, then, testId } = CONSEQUENCE[strategy];
  return (
    <div className="mt-1" data-testid={testId}>
      <p>
        {byUser.size === 1 ? 'A user' : `${byUser.size} users`} {routed} {byUser.size === 1 ? 'has' : 'have'} keys without a Bedrock key: {then}
      </p>
      <ul className="mt-1 flex flex-wrap gap-x-4 gap-y-1">
        {[...byUser].map(([userId, u]) => (
          <li key={userId}>
            <Link to={`/users/${userId}`} className="font-medium underline">
              {u.name}
            </Link>{' '}
            <span className="font-mono text-xs">({u.prefixes.map((p) => `${p}…`).join(', ')})</span>
          </li>
        ))}
      </ul>
    </div>
  );
}
