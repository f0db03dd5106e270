import { describe, expect, it } from 'vitest';
import { createBedrockKeyStore } from '../../../src/proxy/bedrock-keys.ts';
import { EnvelopeError } from '../../../src/security/envelope.ts';

/** A repository of plaintext "blobs" and an envelope that reverses them, both counting calls. */
function setup(rows: Record<string, string> = { a: 'key-a' }) {
  const calls = { get: 0, decrypt: 0 };
  const gates: (() => void)[] = [];
  let gated = false;
  const repository = {
    async get(id: string) {
      calls.get++;
      const value = rows[id]; // read now, returned when the gate opens
      if (gated) await new Promise<void>((resolve) => gates.push(resolve));
      return value === undefined ? null : { encryptedKey: Buffer.from(value) };
    },
  };
  const envelope = {
    async decrypt(blob: Buffer, id: string) {
      calls.decrypt++;
      if (blob.toString() === 'bad') throw new EnvelopeError('SECURITY_DECRYPT_FAILED', `does not decrypt for ${id}`);
      return blob.toString();
    },
  };
  let t = 1_000;
  const store = createBedrockKeyStore({ repository, envelope, ttlMs: 60_000, negativeTtlMs: 5_000, now: () => t });
  return {
    store,
    rows,
    calls,
    advance: (ms: number) => (t += ms),
    gate: () => (gated = true),
    release: () => {
      gated = false;
      for (const open of gates.splice(0)) open();
    },
  };
}

describe('Bedrock key store', () => {
  it('decrypts once and answers from memory until the TTL ends', async () => {
    const s = setup();
    expect(await s.store.get('a')).toBe('key-a');
    expect(await s.store.get('a')).toBe('key-a');
    expect(s.calls).toEqual({ get: 1, decrypt: 1 });
    s.advance(60_001);
    expect(await s.store.get('a')).toBe('key-a');
    expect(s.calls).toEqual({ get: 2, decrypt: 2 });
  });

  it('coalesces concurrent misses into one read and one decryption', async () => {
    const s = setup();
    s.gate();
    const pending = Promise.all(Array.from({ length: 10 }, () => s.store.get('a')));
    await new Promise((r) => setImmediate(r));
    s.release();
    expect(await pending).toEqual(Array(10).fill('key-a'));
    expect(s.calls).toEqual({ get: 1, decrypt: 1 });
  });

  it('remembers "no key" briefly', async () => {
    const s = setup();
    expect(await s.store.get('none')).toBeNull();
    expect(await s.store.get('none')).toBeNull();
    expect(s.calls.get).toBe(1);
    s.advance(5_001);
    s.rows.none = 'now-set';
    expect(await s.store.get('none')).toBe('now-set');
  });

  it('forgets a key at once on invalidate', async () => {
    const s = setup();
    expect(await s.store.get('a')).toBe('key-a');
    s.rows.a = 'key-a2';
    s.store.invalidate('a');
    expect(await s.store.get('a')).toBe('key-a2');
    delete s.rows.a;
    s.store.invalidate('a');
    expect(await s.store.get('a')).toBeNull();
  });

  it('does not cache a read that was in flight when invalidate came', async () => {
    const s = setup();
    s.gate();
    const stale = s.store.get('a');
    await new Promise((r) => setImmediate(r));
    s.rows.a = 'key-a2';
    s.store.invalidate('a');
    s.release();
    expect(await stale).toBe('key-a'); // the waiting caller gets what was read
    expect(await s.store.get('a')).toBe('key-a2'); // but the next one reads again
  });

  it('passes decryption failures on without caching them', async () => {
    const s = setup({ a: 'bad' });
    await expect(s.store.get('a')).rejects.toMatchObject({ code: 'SECURITY_DECRYPT_FAILED' });
    await expect(s.store.get('a')).rejects.toMatchObject({ code: 'SECURITY_DECRYPT_FAILED' });
    expect(s.calls.decrypt).toBe(2);
  });
});
