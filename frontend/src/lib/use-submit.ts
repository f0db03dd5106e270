import { useState, type FormEvent } from 'react';
import { errorText } from './api-error.ts';

export interface Submit {
  busy: boolean;
  /** The server's message when the last attempt failed. */
  error: string | null;
  submit: (event: FormEvent) => Promise<void>;
}

/**
 * A form that saves and then goes away (leaves the page or closes itself): busy while the call
 * runs and afterwards on success, so the button cannot send twice; on failure the server's message
 * and the button back.
 */
export function useSubmit(action: () => Promise<void>): Submit {
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<string | null>(null);
  const submit = async (event: FormEvent) => {
    event.preventDefault();
    setBusy(true);
    setError(null);
    try {
      await action();
    } catch (err) {
      setError(errorText(err));
      setBusy(false);
    }
  };
  return { busy, error, submit };
}
