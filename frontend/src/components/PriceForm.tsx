import { useId, useState } from 'react';
import { api } from '../lib/api.ts';
import { trimDecimal } from '../lib/format.ts';
import { RATE_FIELDS } from '../lib/pricing.ts';
import { useSubmit } from '../lib/use-submit.ts';
import type { Price, PriceRates } from '../lib/types.ts';
import { Alert } from './Alert.tsx';
import { Panel } from './Panel.tsx';

export interface PriceDraft {
  provider: 'anthropic' | 'bedrock';
  region: string;
  model: string;
  rates: PriceRates;
  longContext: (PriceRates & { threshold_tokens: number }) | null;
}

const EMPTY_RATES: PriceRates = {
  input_usd_per_mtok: '',
  output_usd_per_mtok: '',
  cache_write_5m_usd_per_mtok: '',
  cache_write_1h_usd_per_mtok: '',
  cache_read_usd_per_mtok: '',
};

function trimRates(r: PriceRates): PriceRates {
  return Object.fromEntries(RATE_FIELDS.map((f) => [f.key, r[f.key] === '' ? '' : trimDecimal(r[f.key])])) as unknown as PriceRates;
}

/** A new price row: a change to a price is a new row from its effective date. */
export function PriceForm({ initial, onSaved }: { initial: PriceDraft | null; onSaved: (price: Price) => void }) {
  const id = useId();
  const [provider, setProvider] = useState<'anthropic' | 'bedrock'>(initial?.provider ?? 'anthropic');
  const [region, setRegion] = useState(initial?.region ?? '');
  const [model, setModel] = useState(initial?.model ?? '');
  const [rates, setRates] = useState<PriceRates>(initial ? trimRates(initial.rates) : EMPTY_RATES);
  const [long, setLong] = useState(initial?.longContext !== null && initial?.longContext !== undefined);
  const [threshold, setThreshold] = useState(String(initial?.longContext?.threshold_tokens ?? 200000));
  const [longRates, setLongRates] = useState<PriceRates>(initial?.longContext ? trimRates(initial.longContext) : EMPTY_RATES);
  const [effective, setEffective] = useState('');
  const { busy, error, submit } = useSubmit(async () => {
    const saved = await api.addPrice({
      provider,
      ...(provider === 'bedrock' && region.trim() ? { region: region.trim() } : {}),
      model: model.trim(),
      ...rates,
      long_context: long ? { threshold_tokens: Number(threshold), ...longRates } : null,
      ...(effective ? { effective_from: effective } : {}),
    });
    onSaved(saved);
  });

  return (
    <Panel title={initial ? `Change the price of ${initial.model}` : 'Add a price'}>
      <form onSubmit={submit} className="space-y-4">
        <div className="grid grid-cols-1 gap-3 sm:grid-cols-2 lg:grid-cols-4">
          <div>
            <label htmlFor={`${id}-provider`} className="label">
              Provider
            </label>
            <select id={`${id}-provider`} className="input" value={provider} onChange={(e) => setProvider(e.target.value as 'anthropic' | 'bedrock')}>
              <option value="anthropic">Anthropic (Plan traffic)</option>
              <option value="bedrock">Bedrock</option>
            </select>
          </div>
          {provider === 'bedrock' && (
            <div>
              <label htmlFor={`${id}-region`} className="label">
                Region (blank: any; or global)
              </label>
              <input id={`${id}-region`} className="input" placeholder="e.g. us-east-1" value={region} onChange={(e) => setRegion(e.target.value)} />
            </div>
          )}
          <div>
            <label htmlFor={`${id}-model`} className="label">
              Model
            </label>
            <input id={`${id}-model`} className="input" required placeholder="e.g. claude-sonnet-4-5" value={model} onChange={(e) => setModel(e.target.value)} />
          </div>
          <div>
            <label htmlFor={`${id}-effective`} className="label">
              Effective from (blank: now)
            </label>
            <input id={`${id}-effective`} type="date" className="input" value={effective} onChange={(e) => setEffective(e.target.value)} />
          </div>
        </div>
        <RateInputs idPrefix={`${id}-rate`} legend="USD per million tokens" labelPrefix="" rates={rates} onChange={setRates} />
        <div className="flex items-center gap-2">
          <input id={`${id}-long`} type="checkbox" checked={long} onChange={(e) => setLong(e.target.checked)} />
          <label htmlFor={`${id}-long`} className="text-sm">
            Different rates for long prompts
          </label>
        </div>
        {long && (
          <div className="space-y-3 rounded-md border border-slate-200 dark:border-slate-700 p-3">
            <div className="w-56">
              <label htmlFor={`${id}-threshold`} className="label">
                Above this many prompt tokens
              </label>
              <input id={`${id}-threshold`} className="input" inputMode="numeric" value={threshold} onChange={(e) => setThreshold(e.target.value)} />
            </div>
            <RateInputs idPrefix={`${id}-long-rate`} legend="Long-prompt USD per million tokens" labelPrefix="Long-prompt " rates={longRates} onChange={setLongRates} />
          </div>
        )}
        {error && <Alert>{error}</Alert>}
        <button type="submit" className="btn-primary" disabled={busy || !model.trim()}>
          {busy ? 'Saving…' : 'Save price'}
        </button>
      </form>
    </Panel>
  );
}

function RateInputs({
  idPrefix,
  legend,
  labelPrefix,
  rates,
  onChange,
}: {
  idPrefix: string;
  legend: string;
  labelPrefix: string;
  rates: PriceRates;
  onChange: (r: PriceRates) => void;
}) {
  return (
    <fieldset>
      <legend className="label">{legend}</legend>
      <div className="grid grid-cols-2 gap-3 sm:grid-cols-3 lg:grid-cols-5">
        {RATE_FIELDS.map((f) => (
          <div key={f.key}>
            <label htmlFor={`${idPrefix}-${f.key}`} className="text-xs text-slate-600 dark:text-slate-300">
              {labelPrefix ? `${labelPrefix}${f.label.toLowerCase()}` : f.label} (USD/MTok)
            </label>
            <input
              id={`${idPrefix}-${f.key}`}
              className="input"
              inputMode="decimal"
              required
              value={rates[f.key]}
              onChange={(e) => onChange({ ...rates, [f.key]: e.target.value })}
            />
          </div>
        ))}
      </div>
    </fieldset>
  );
}
