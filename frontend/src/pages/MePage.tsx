import { Alert } from '../components/Alert.tsx';
import { MyUsageSection } from '../components/MyUsageSection.tsx';
import { PageSkeleton } from '../components/Skeleton.tsx';
import { StatusBadge } from '../components/StatusBadge.tsx';
import { AccessKeysPanel } from '../components/user/AccessKeysPanel.tsx';
import { BudgetPanel } from '../components/user/BudgetPanel.tsx';
import { PlanWindowPanel } from '../components/user/PlanWindowPanel.tsx';
import { api } from '../lib/api.ts';
import { myKeyEndpoints } from '../lib/key-endpoints.ts';
import type { AccessKey } from '../lib/types.ts';
import { useAsync } from '../lib/use-async.ts';

/** How many keys count against the developer's maximum: every unrevoked one (a rotating key too, until revoked). */
function KeyCount({ keys, max }: { keys: AccessKey[]; max: number | null }) {
  const live = keys.filter((k) => k.status !== 'revoked').length;
  return (
    <p className="mb-3 text-sm text-slate-600 dark:text-slate-300" data-testid="key-count">
      {max === null
        ? `You hold ${live} unrevoked key${live === 1 ? '' : 's'}.`
        : `You hold ${live} of the ${max} unrevoked keys you may hold (a rotating key counts until the server revokes it)${live >= max ? '; revoke one to issue another' : ''}.`}
    </p>
  );
}

/**
 * A signed-in person's own page (the /admin/me routes, README "Sign-in and roles"): their access keys
 * with the Bedrock key of each, their budget, Plan window and usage — the admin's user-page panels,
 * pointed at their own routes.
 */
export function MePage() {
  const me = useAsync(() => api.me(), []);
  if (me.error) {
    return (
      <div className="space-y-4">
        <h1 className="text-2xl font-semibold">My keys &amp; usage</h1>
        <Alert>{me.error}</Alert>
      </div>
    );
  }
  const user = me.data;
  if (!user) return <PageSkeleton />;
  return (
    <div className="space-y-6">
      <div>
        <div className="flex flex-wrap items-center gap-3">
          <h1 className="text-2xl font-semibold">My keys &amp; usage</h1>
          <StatusBadge status={user.status} />
        </div>
        <p className="text-slate-600 dark:text-slate-300">
          Signed in as the user <span className="font-medium">{user.name}</span>. Issue yourself a key for Claude Code, give it your Bedrock API key for the fallback,
          and follow your usage.
        </p>
      </div>
      <AccessKeysPanel user={user} endpoints={myKeyEndpoints} summary={(keys) => <KeyCount keys={keys} max={user.max_live_keys} />} />
      <BudgetPanel user={user} load={api.myBudget} />
      <PlanWindowPanel user={user} load={api.myPlanWindows} />
      <section aria-labelledby="my-usage" className="space-y-3">
        <h2 id="my-usage" className="text-lg font-semibold">
          My usage
        </h2>
        <MyUsageSection />
      </section>
    </div>
  );
}
