import { api } from '../../lib/api.ts';
import { useCanChange } from '../../lib/session.tsx';
import { navigate } from '../../lib/router.tsx';
import type { User } from '../../lib/types.ts';
import { ConfirmAction } from '../ConfirmAction.tsx';
import { Panel } from '../Panel.tsx';
import { StatusBadge } from '../StatusBadge.tsx';

/** Deactivate / reactivate / delete, each after a confirmation. */
export function StatusPanel({ user, onChanged }: { user: User; onChanged: (user: User) => void }) {
  const canChange = useCanChange();
  return (
    <Panel title="Status">
      <p className="mb-3 text-sm">
        This user is <StatusBadge status={user.status} />.{' '}
        {user.status === 'active' && 'Their keys work.'}
        {user.status === 'inactive' && 'Their keys are refused until the user is reactivated.'}
        {user.status === 'deleted' && 'Their keys are revoked and their Bedrock keys erased; their usage stays in the reports.'}
      </p>
      <div className="flex flex-wrap items-start gap-3">
        {canChange && user.status === 'active' && (
          <ConfirmAction
            label="Deactivate user"
            confirmLabel="Yes, deactivate"
            question={`Deactivate ${user.name}? Their keys stop working at once (and work again after reactivation).`}
            onConfirm={async () => onChanged(await api.setUserStatus(user.id, 'deactivate'))}
          />
        )}
        {canChange && user.status === 'inactive' && (
          <ConfirmAction
            danger={false}
            label="Reactivate user"
            confirmLabel="Yes, reactivate"
            question={`Reactivate ${user.name}? Their unrevoked keys work again at once.`}
            onConfirm={async () => onChanged(await api.setUserStatus(user.id, 'reactivate'))}
          />
        )}
        {canChange && user.status !== 'deleted' && (
          <ConfirmAction
            label="Delete user"
            confirmLabel="Yes, delete"
            question={`Delete ${user.name}? Every access key is revoked and every Bedrock key erased. This cannot be undone; usage stays in the reports.`}
            onConfirm={async () => {
              await api.deleteUser(user.id);
              navigate('/users');
            }}
          />
        )}
      </div>
    </Panel>
  );
}
