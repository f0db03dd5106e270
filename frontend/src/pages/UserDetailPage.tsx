import { useEffect, useState } from 'react';
import { Alert } from '../components/Alert.tsx';
import { PlanReportPanel } from '../components/PlanReportPanel.tsx';
import { StatusBadge } from '../components/StatusBadge.tsx';
import { UsageSection } from '../components/UsageSection.tsx';
import { AccessKeysPanel } from '../components/user/AccessKeysPanel.tsx';
import { BudgetPanel } from '../components/user/BudgetPanel.tsx';
import { LimitsPanel } from '../components/user/LimitsPanel.tsx';
import { NoBedrockKeyFlag } from '../components/NoBedrockKeyFlag.tsx';
import { PageSkeleton } from '../components/Skeleton.tsx';
import { PlanWindowPanel } from '../components/user/PlanWindowPanel.tsx';
import { ProfilePanel } from '../components/user/ProfilePanel.tsx';
import { StatusPanel } from '../components/user/StatusPanel.tsx';
import { api } from '../lib/api.ts';
import { requestLogPath } from '../lib/request-log.ts';
import { Link, useLocation } from '../lib/router.tsx';
import { useCanChange } from '../lib/session.tsx';
import type { User } from '../lib/types.ts';
import { useAsync } from '../lib/use-async.ts';

export function UserDetailPage({ userId }: { userId: string }) {
  const loaded = useAsync(() => api.user(userId), [userId]);
  const [user, setUser] = useState<User | undefined>(undefined);
  const { search } = useLocation();
  // Asked again when the routing changes: plan_only needs no Bedrock key.
  const readiness = useAsync(() => api.fallbackReadiness(), [userId, user?.routing_strategy]);
  const cannotFallBack = readiness.data?.keys_without_bedrock_key.filter((k) => k.user_id === userId) ?? [];
  useEffect(() => setUser(loaded.data), [loaded.data]);
  // Key material is an admin's only: a viewer sees the user without their keys (the API answers 403).
  const canChange = useCanChange();

  if (loaded.error) {
    return (
      <div className="space-y-4">
        <h1 className="text-2xl font-semibold">User</h1>
        <Alert>{loaded.error}</Alert>
        <Link to="/users" className="text-indigo-700 dark:text-indigo-300 underline">
          Back to all users
        </Link>
      </div>
    );
  }
  if (!user) return <PageSkeleton />;

  return (
    <div className="space-y-6">
      <div>
        <Link to="/users" className="text-sm text-indigo-700 dark:text-indigo-300 hover:underline">
          ← All users
        </Link>
        <div className="mt-1 flex flex-wrap items-center gap-3">
          <h1 className="text-2xl font-semibold">{user.name}</h1>
          <StatusBadge status={user.status} />
          {cannotFallBack.length > 0 && <NoBedrockKeyFlag routing={user.routing_strategy} />}
          <Link to={requestLogPath({ user_id: user.id })} className="ml-auto btn-secondary">
            Request log<span className="sr-only"> of {user.name}</span>
          </Link>
        </div>
        {user.description && <p className="text-slate-600 dark:text-slate-300">{user.description}</p>}
      </div>
      {new URLSearchParams(search).has('created') && <Alert kind="success">User created. Issue them an access key below.</Alert>}
      <div className="grid grid-cols-1 gap-4 lg:grid-cols-2">
        <ProfilePanel user={user} onSaved={setUser} />
        <div className="space-y-4">
          <StatusPanel user={user} onChanged={setUser} />
          <BudgetPanel user={user} />
          <LimitsPanel user={user} />
        </div>
      </div>
      {canChange && <AccessKeysPanel user={user} onChanged={readiness.reload} />}
      <PlanWindowPanel user={user} />
      <section aria-labelledby="user-usage" className="space-y-3">
        <h2 id="user-usage" className="text-lg font-semibold">
          Usage of {user.name}
        </h2>
        <UsageSection userId={user.id} initial={{ kind: 'month' }}>
          {(query, refresh) => <PlanReportPanel query={query} userId={user.id} refresh={refresh} />}
        </UsageSection>
      </section>
    </div>
  );
}
