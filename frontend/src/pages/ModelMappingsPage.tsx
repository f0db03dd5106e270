import { useId, useState } from 'react';
import { Alert } from '../components/Alert.tsx';
import { ConfirmAction } from '../components/ConfirmAction.tsx';
import { EmptyState } from '../components/EmptyState.tsx';
import { Panel } from '../components/Panel.tsx';
import { api } from '../lib/api.ts';
import { useCanChange } from '../lib/session.tsx';
import { formatDateTime } from '../lib/format.ts';
import { useAsync } from '../lib/use-async.ts';
import { useSubmit } from '../lib/use-submit.ts';

/** Geographies with a Bedrock cross-region inference profile (backend/src/admin/model-mappings.ts). */
const GEOGRAPHIES = ['global', 'us', 'us-gov', 'eu', 'apac', 'jp', 'au'];

interface Draft {
  model: string;
  baseId: string;
  geographies: string[];
}

export function ModelMappingsPage() {
  const mappings = useAsync(() => api.mappings(), []);
  const [draft, setDraft] = useState<Draft | null>(null);
  const [notice, setNotice] = useState<string | null>(null);
  const overridden = new Set(mappings.data?.items.map((m) => m.model));
  const canChange = useCanChange();

  const edit = (d: Draft) => {
    setNotice(null);
    setDraft(d);
    document.getElementById('mapping-form')?.scrollIntoView({ behavior: 'smooth' });
  };

  return (
    <div className="space-y-6">
      <div>
        <h1 className="text-2xl font-semibold">Model mappings</h1>
        <p className="text-sm text-slate-600 dark:text-slate-300">
          Which Bedrock model serves each Anthropic model name on fallback. Mappings set here win over the shipped defaults; every proxy task uses a change from its
          next request.
        </p>
      </div>
      {canChange && (
        <div id="mapping-form">
          <MappingForm
            key={JSON.stringify(draft)}
            initial={draft}
            onSaved={(model) => {
              setNotice(`Mapping for ${model} saved.`);
              setDraft(null);
              mappings.reload();
            }}
          />
        </div>
      )}
      {notice && <Alert kind="success">{notice}</Alert>}
      {mappings.error && <Alert>{mappings.error}</Alert>}
      {mappings.data && (
        <>
          <Panel title="Your mappings">
            {mappings.data.items.length === 0 ? (
              <EmptyState title="No mappings of your own">The shipped defaults below apply. Add a mapping above to add a model or override a default.</EmptyState>
            ) : (
              <div className="overflow-x-auto">
                <table className="table-basic">
                  <thead>
                    <tr>
                      <th scope="col">Anthropic model</th>
                      <th scope="col">Bedrock id</th>
                      <th scope="col">Inference profiles</th>
                      <th scope="col">Updated</th>
                      <th scope="col">Actions</th>
                    </tr>
                  </thead>
                  <tbody>
                    {mappings.data.items.map((m) => (
                      <tr key={m.model}>
                        <td className="font-mono text-xs whitespace-nowrap">{m.model}</td>
                        <td className="font-mono text-xs break-all">{m.base_id}</td>
                        <td>{m.geographies.join(', ') || 'base id only'}</td>
                        <td className="whitespace-nowrap">{formatDateTime(m.updated_at)}</td>
                        <td>
                          {canChange && (
                            <div className="flex flex-wrap gap-2">
                              <button type="button" className="btn-secondary" onClick={() => edit({ model: m.model, baseId: m.base_id, geographies: m.geographies })}>
                                Edit<span className="sr-only"> {m.model}</span>
                              </button>
                              <ConfirmAction
                                label="Remove"
                                detail={m.model}
                                confirmLabel="Yes, remove"
                                question={`Remove your mapping of ${m.model}? The shipped default, if there is one, applies again.`}
                                onConfirm={async () => {
                                  await api.deleteMapping(m.model);
                                  mappings.reload();
                                }}
                              />
                            </div>
                          )}
                        </td>
                      </tr>
                    ))}
                  </tbody>
                </table>
              </div>
            )}
          </Panel>
          <Panel title="Shipped defaults">
            <div className="overflow-x-auto">
              <table className="table-basic">
                <thead>
                  <tr>
                    <th scope="col">Anthropic model</th>
                    <th scope="col">Bedrock id</th>
                    <th scope="col">Inference profiles</th>
                    <th scope="col">Actions</th>
                  </tr>
                </thead>
                <tbody>
                  {mappings.data.defaults.map((m) => (
                    <tr key={m.model} className={overridden.has(m.model) ? 'text-slate-500 dark:text-slate-400' : undefined}>
                      <td className="font-mono text-xs whitespace-nowrap">
                        {m.model}
                        {overridden.has(m.model) && <span className="ml-2 font-sans">(overridden)</span>}
                      </td>
                      <td className="font-mono text-xs break-all">{m.base_id}</td>
                      <td>{m.geographies.join(', ') || 'base id only'}</td>
                      <td>
                        {canChange && (
                          <button type="button" className="btn-secondary" onClick={() => edit({ model: m.model, baseId: m.base_id, geographies: m.geographies })}>
                            Override<span className="sr-only"> {m.model}</span>
                          </button>
                        )}
                      </td>
                    </tr>
                  ))}
                </tbody>
              </table>
            </div>
          </Panel>
        </>
      )}
    </div>
  );
}

function MappingForm({ initial, onSaved }: { initial: Draft | null; onSaved: (model: string) => void }) {
  const id = useId();
  const [model, setModel] = useState(initial?.model ?? '');
  const [baseId, setBaseId] = useState(initial?.baseId ?? '');
  const [geographies, setGeographies] = useState<string[]>(initial?.geographies ?? []);
  const { busy, error, submit } = useSubmit(async () => {
    const saved = await api.putMapping(model.trim(), { base_id: baseId.trim(), geographies });
    onSaved(saved.model);
  });
  const toggle = (g: string) => setGeographies((list) => (list.includes(g) ? list.filter((x) => x !== g) : [...list, g]));

  return (
    <Panel title={initial ? `Map ${initial.model}` : 'Add or change a mapping'}>
      <form onSubmit={submit} className="space-y-3">
        <div className="grid grid-cols-1 gap-3 md:grid-cols-2">
          <div>
            <label htmlFor={`${id}-model`} className="label">
              Anthropic model name
            </label>
            <input id={`${id}-model`} className="input" required placeholder="e.g. claude-sonnet-4-5" value={model} onChange={(e) => setModel(e.target.value)} />
          </div>
          <div>
            <label htmlFor={`${id}-base`} className="label">
              Bedrock model id or ARN
            </label>
            <input
              id={`${id}-base`}
              className="input"
              required
              placeholder="e.g. anthropic.claude-sonnet-4-5-20250929-v1:0"
              value={baseId}
              onChange={(e) => setBaseId(e.target.value)}
            />
          </div>
        </div>
        <fieldset>
          <legend className="label">Cross-region inference profiles available</legend>
          <div className="flex flex-wrap gap-4">
            {GEOGRAPHIES.map((g) => (
              <label key={g} className="flex items-center gap-1.5 text-sm">
                <input type="checkbox" checked={geographies.includes(g)} onChange={() => toggle(g)} />
                {g}
              </label>
            ))}
          </div>
        </fieldset>
        {error && <Alert>{error}</Alert>}
        <button type="submit" className="btn-primary" disabled={busy || !model.trim() || !baseId.trim()}>
          {busy ? 'Saving…' : 'Save mapping'}
        </button>
      </form>
    </Panel>
  );
}
