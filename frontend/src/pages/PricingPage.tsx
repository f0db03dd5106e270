import { useId, useState } from 'react';
import { Alert } from '../components/Alert.tsx';
import { ConfirmAction } from '../components/ConfirmAction.tsx';
import { EmptyState } from '../components/EmptyState.tsx';
import { Panel } from '../components/Panel.tsx';
import { PriceForm, type PriceDraft } from '../components/PriceForm.tsx';
import { api } from '../lib/api.ts';
import { useCanChange } from '../lib/session.tsx';
import { formatDateTime, formatTokens } from '../lib/format.ts';
import { formatRate, priceState, RATE_FIELDS } from '../lib/pricing.ts';
import type { Price } from '../lib/types.ts';
import { useAsync } from '../lib/use-async.ts';

export function PricingPage() {
  const id = useId();
  const [current, setCurrent] = useState(true);
  const [provider, setProvider] = useState('');
  const [search, setSearch] = useState('');
  const prices = useAsync(() => api.prices({ current: current || undefined, provider: provider || undefined }), [current, provider]);
  // The model search narrows what is loaded (57 rows of shipped prices) as the admin types.
  const needle = search.trim().toLowerCase();
  const items = prices.data?.items.filter((p) => !needle || p.model.toLowerCase().includes(needle));
  const [draft, setDraft] = useState<PriceDraft | null>(null);
  const [notice, setNotice] = useState<string | null>(null);
  const canChange = useCanChange();

  const edit = (p: Price) => {
    setNotice(null);
    setDraft({ provider: p.provider, region: p.region ?? '', model: p.model, rates: { ...p }, longContext: p.long_context });
    document.getElementById('price-form')?.scrollIntoView({ behavior: 'smooth' });
  };

  return (
    <div className="space-y-6">
      <div>
        <h1 className="text-2xl font-semibold">Pricing</h1>
        <p className="text-sm text-slate-600 dark:text-slate-300">
          USD per million tokens. A price applies from its date until a later one; costs already recorded keep the price they were computed with.
        </p>
      </div>
      {canChange && (
        <div id="price-form">
          <PriceForm
            key={JSON.stringify(draft)}
            initial={draft}
            onSaved={(p) => {
              setNotice(`Price for ${p.model} (${p.provider}) added, in effect from ${formatDateTime(p.effective_from)}.`);
              setDraft(null);
              prices.reload();
            }}
          />
        </div>
      )}
      {notice && <Alert kind="success">{notice}</Alert>}
      <Panel title="Prices">
        <div className="mb-3 flex flex-wrap gap-3">
          <div>
            <label htmlFor={`${id}-show`} className="label">
              Show
            </label>
            <select id={`${id}-show`} className="input" value={current ? 'current' : 'all'} onChange={(e) => setCurrent(e.target.value === 'current')}>
              <option value="current">Prices in effect now</option>
              <option value="all">All, with history and scheduled</option>
            </select>
          </div>
          <div>
            <label htmlFor={`${id}-provider`} className="label">
              Provider
            </label>
            <select id={`${id}-provider`} className="input" value={provider} onChange={(e) => setProvider(e.target.value)}>
              <option value="">All providers</option>
              <option value="anthropic">Anthropic</option>
              <option value="bedrock">Bedrock</option>
            </select>
          </div>
          <div className="w-64 max-w-full">
            <label htmlFor={`${id}-search`} className="label">
              Search models
            </label>
            <input id={`${id}-search`} type="search" className="input" placeholder="e.g. sonnet" value={search} onChange={(e) => setSearch(e.target.value)} />
          </div>
        </div>
        {prices.error && <Alert>{prices.error}</Alert>}
        {items && items.length === 0 && <EmptyState title="No prices match">{search.trim() ? 'Try another model name.' : 'Add one above.'}</EmptyState>}
        {items && items.length > 0 && (
          <div className="overflow-x-auto">
            <table className="table-basic">
              <thead>
                <tr>
                  <th scope="col">Model</th>
                  <th scope="col">Provider</th>
                  <th scope="col">Region</th>
                  {RATE_FIELDS.map((f) => (
                    <th key={f.key} scope="col" className="text-right">
                      {f.label}
                    </th>
                  ))}
                  <th scope="col">Long context</th>
                  <th scope="col">From</th>
                  <th scope="col">State</th>
                  <th scope="col">Actions</th>
                </tr>
              </thead>
              <tbody>
                {items.map((p) => {
                  const state = priceState(p);
                  return (
                    <tr key={p.id}>
                      <td className="font-mono text-xs whitespace-nowrap">{p.model}</td>
                      <td>{p.provider}</td>
                      <td>{p.region ?? (p.provider === 'bedrock' ? 'any' : '—')}</td>
                      {RATE_FIELDS.map((f) => (
                        <td key={f.key} className="text-right tabular-nums">
                          {formatRate(p[f.key])}
                        </td>
                      ))}
                      <td className="text-xs whitespace-nowrap">
                        {p.long_context
                          ? `above ${formatTokens(p.long_context.threshold_tokens)}: ${formatRate(p.long_context.input_usd_per_mtok)} / ${formatRate(p.long_context.output_usd_per_mtok)}`
                          : '—'}
                      </td>
                      <td className="whitespace-nowrap">{formatDateTime(p.effective_from)}</td>
                      <td className="whitespace-nowrap">{state}</td>
                      <td>
                        {canChange && (
                          <div className="flex flex-wrap gap-2">
                            <button type="button" className="btn-secondary whitespace-nowrap" onClick={() => edit(p)}>
                              Change<span className="sr-only"> price of {p.model} ({p.provider}{p.region ? ` ${p.region}` : ''})</span>
                            </button>
                            {state === 'scheduled' && (
                              <ConfirmAction
                                label="Cancel"
                                detail={`scheduled price of ${p.model}`}
                                confirmLabel="Yes, cancel it"
                                question={`Cancel the ${p.model} price scheduled for ${formatDateTime(p.effective_from)}?`}
                                onConfirm={async () => {
                                  await api.cancelPrice(p.id);
                                  prices.reload();
                                }}
                              />
                            )}
                          </div>
                        )}
                      </td>
                    </tr>
                  );
                })}
              </tbody>
            </table>
          </div>
        )}
      </Panel>
    </div>
  );
}
