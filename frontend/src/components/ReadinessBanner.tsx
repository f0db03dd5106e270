import type { FallbackReadiness } from '../lib/types.ts';
import { Link } from '../lib/router.tsx';

/**
 * What cannot fall back to Bedrock now (GET /admin/fallback-readiness): models with a price but no
 * Bedrock mapping, and plan_first keys without a Bedrock key. Nothing when everything can.
 */
export function ReadinessBanner({ readiness }: { readiness: FallbackReadiness | undefined }) {
  if (!readiness) return null;
  const models = readiness.models_without_mapping;
  const byUser = new Map<string, { name: string; prefixes: string[] }>();
  for (const k of readiness.keys_without_bedrock_key) {
    const entry = byUser.get(k.user_id) ?? { name: k.user_name, prefixes: [] };
    entry.prefixes.push(k.key_prefix);
    byUser.set(k.user_id, entry);
  }
  if (models.length === 0 && byUser.size === 0) return null;
  return (
    <section aria-label="Fallback readiness" data-testid="readiness" className="rounded-md border border-amber-400 bg-amber-50 dark:bg-amber-950 px-4 py-3 text-sm text-amber-900 dark:text-amber-100">
      <h2 className="font-semibold">Some requests cannot fall back to Bedrock</h2>
      {models.length > 0 && (
        <p className="mt-1">
          {models.length === 1 ? 'A model has' : `${models.length} models have`} no Bedrock mapping:{' '}
          <span className="font-mono text-xs">{models.join(', ')}</span>.{' '}
          <Link to="/model-mappings" className="font-medium underline">
            Add a mapping
          </Link>
        </p>
      )}
      {byUser.size > 0 && (
        <div className="mt-1">
          <p>
            {byUser.size === 1 ? 'A user' : `${byUser.size} users`} routed Plan first {byUser.size === 1 ? 'has' : 'have'} keys without a Bedrock key: when Anthropic
            refuses, they get Anthropic's error.
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
      )}
    </section>
  );
}
