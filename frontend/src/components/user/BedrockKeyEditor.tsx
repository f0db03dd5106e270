import { useId, useState, type FormEvent } from 'react';
import { errorText } from '../../lib/api-error.ts';
import { formatDateTime } from '../../lib/format.ts';
import type { KeyEndpoints } from '../../lib/key-endpoints.ts';
import type { AccessKey, BedrockKeyStatus } from '../../lib/types.ts';
import { Alert } from '../Alert.tsx';
import { ConfirmAction } from '../ConfirmAction.tsx';

/** Register, replace or remove the Bedrock API key of one access key (through the admin or the /admin/me routes); it is never shown back. */
export function BedrockKeyEditor({
  accessKey,
  status,
  onChanged,
  endpoints,
}: {
  accessKey: AccessKey;
  status: BedrockKeyStatus | null;
  onChanged: () => void;
  endpoints: Pick<KeyEndpoints, 'putBedrockKey' | 'deleteBedrockKey'>;
}) {
  const id = useId();
  const [value, setValue] = useState('');
  const [message, setMessage] = useState<{ kind: 'error' | 'success'; text: string } | null>(null);
  const [busy, setBusy] = useState(false);

  const submit = async (event: FormEvent) => {
    event.preventDefault();
    setBusy(true);
    setMessage(null);
    try {
      const saved = await endpoints.putBedrockKey(accessKey.id, value.trim());
      setValue('');
      setMessage({ kind: 'success', text: `Bedrock key ending in ${saved.last4} saved (encrypted).` });
      onChanged();
    } catch (err) {
      setMessage({ kind: 'error', text: errorText(err) });
    } finally {
      setBusy(false);
    }
  };

  return (
    <div className="space-y-3 py-2">
      <p className="text-sm text-slate-700 dark:text-slate-200">
        {status
          ? `Bedrock key ending in …${status.last4}, set ${formatDateTime(status.updated_at)} (${status.encryption} encryption).`
          : 'No Bedrock key: this access key cannot fall back to Bedrock.'}
      </p>
      <form onSubmit={submit} className="flex flex-wrap items-end gap-3">
        <div className="min-w-64 flex-1">
          <label htmlFor={`${id}-key`} className="label">
            {status ? 'New Bedrock API key' : 'Bedrock API key'} for {accessKey.key_prefix}
          </label>
          <input id={`${id}-key`} type="password" autoComplete="off" className="input" value={value} onChange={(e) => setValue(e.target.value)} />
        </div>
        <button type="submit" className="btn-primary" disabled={busy || value.trim().length === 0}>
          {status ? 'Replace Bedrock key' : 'Register Bedrock key'}
        </button>
      </form>
      {status && (
        <ConfirmAction
          label="Remove Bedrock key"
          confirmLabel="Yes, remove"
          question="Erase this Bedrock key? Requests on this access key can no longer fall back to Bedrock."
          onConfirm={async () => {
            await endpoints.deleteBedrockKey(accessKey.id);
            setMessage({ kind: 'success', text: 'Bedrock key removed.' });
            onChanged();
          }}
        />
      )}
      {message && <Alert kind={message.kind}>{message.text}</Alert>}
    </div>
  );
}
