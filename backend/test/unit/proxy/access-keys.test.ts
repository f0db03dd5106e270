import { describe, expect, it, vi } from 'vitest';
import { createAccessKeyResolver, type KeyContext } from '../../../src/proxy/access-keys.ts';
import { createAccessKeyHasher, generateAccessKey, isAccessKeyFormat } from '../../../src/security/access-key.ts';
import { keyContext } from '../../support/key-context.ts';

const ctx = (id: string, expiresAt: Date | null = null): KeyContext => keyContext({ accessKeyId: id, expiresAt });

function setup(table: Map<string, KeyContext>) {
  let clock = 1_000_000;
  const hash = createAccessKeyHasher('s'.repeat(32));
  const lookup = vi.fn(async (h: string) => table.get(h) ?? null);
  const resolver = createAccessKeyResolver({ isWellFormed: isAccessKeyFormat, hash, lookup, refreshAfterMs: 60_000, negativeTtlMs: 5_000, now: () => clock });
  return { resolver, lookup, hash, advance: (ms: number) => (clock += ms), now: () => clock };
}

describe('access key resolution', () => {
  it('does no lookup in the steady state', async () => {
    const raw = generateAccessKey();
    const table = new Map<string, KeyContext>();
    const { resolver, lookup, hash } = setup(table);
    table.set(hash(raw), ctx('k1'));
    for (let i = 0; i < 100; i++) expect((await resolver.resolve(raw))?.accessKeyId).toBe('k1');
    expect(lookup).toHaveBeenCalledTimes(1);
  });

  it('hashes a key it already knows only once, and still answers each key by its own hash', async () => {
    const [a, b] = [generateAccessKey(), generateAccessKey()];
    const hasher = createAccessKeyHasher('s'.repeat(32));
    const hash = vi.fn(hasher);
    const table = new Map([[hasher(a), ctx('ka')], [hasher(b), ctx('kb')]]);
    const resolver = createAccessKeyResolver({ isWellFormed: isAccessKeyFormat, hash, lookup: async (h) => table.get(h) ?? null, maxRememberedHashes: 1 });
    for (let i = 0; i < 50; i++) expect((await resolver.resolve(a))?.accessKeyId).toBe('ka');
    expect(hash).toHaveBeenCalledTimes(2); // the first lookup, and the first answer from memory
    for (let i = 0; i < 5; i++) expect((await resolver.resolve(b))?.accessKeyId).toBe('kb'); // pushes a out (bound 1)
    expect((await resolver.resolve(a))?.accessKeyId).toBe('ka');
    expect(hash).toHaveBeenCalledTimes(5);
    const unknown = generateAccessKey();
    for (let i = 0; i < 3; i++) expect(await resolver.resolve(unknown)).toBeNull();
    expect(hash).toHaveBeenCalledTimes(8); // unknown keys are never remembered
  });

  it('shares one lookup between concurrent first requests', async () => {
    const raw = generateAccessKey();
    const table = new Map<string, KeyContext>();
    const { resolver, lookup, hash } = setup(table);
    table.set(hash(raw), ctx('k1'));
    await Promise.all(Array.from({ length: 20 }, () => resolver.resolve(raw)));
    expect(lookup).toHaveBeenCalledTimes(1);
  });

  it('refreshes an old entry in the background while still answering from memory', async () => {
    const raw = generateAccessKey();
    const table = new Map<string, KeyContext>();
    const { resolver, lookup, hash, advance } = setup(table);
    table.set(hash(raw), ctx('k1'));
    await resolver.resolve(raw);
    advance(61_000);
    table.delete(hash(raw)); // revoked elsewhere
    expect((await resolver.resolve(raw))?.accessKeyId).toBe('k1'); // served while refreshing
    await vi.waitFor(() => expect(lookup).toHaveBeenCalledTimes(2));
    expect(await resolver.resolve(raw)).toBeNull();
  });

  it('remembers unknown keys briefly, then asks again', async () => {
    const raw = generateAccessKey();
    const { resolver, lookup, advance } = setup(new Map());
    expect(await resolver.resolve(raw)).toBeNull();
    expect(await resolver.resolve(raw)).toBeNull();
    expect(lookup).toHaveBeenCalledTimes(1);
    advance(5_001);
    await resolver.resolve(raw);
    expect(lookup).toHaveBeenCalledTimes(2);
  });

  it('rejects malformed keys without hashing or looking up', async () => {
    const { resolver, lookup } = setup(new Map());
    for (const bad of ['', 'ak_short', `sk_${'a'.repeat(43)}`, `ak_${'a'.repeat(42)}!`, `ak_${'a'.repeat(44)}`]) expect(await resolver.resolve(bad)).toBeNull();
    expect(lookup).not.toHaveBeenCalled();
  });

  it('forgets an invalidated key at once', async () => {
    const raw = generateAccessKey();
    const table = new Map<string, KeyContext>();
    const { resolver, hash } = setup(table);
    table.set(hash(raw), ctx('k1'));
    await resolver.resolve(raw);
    table.delete(hash(raw));
    resolver.invalidate((c) => c.accessKeyId === 'k1');
    expect(await resolver.resolve(raw)).toBeNull();
  });

  it('stops a rotated key at its expiry even while cached', async () => {
    const raw = generateAccessKey();
    const table = new Map<string, KeyContext>();
    const { resolver, hash, advance, now } = setup(table);
    table.set(hash(raw), ctx('k1', new Date(now() + 1_000)));
    expect(await resolver.resolve(raw)).not.toBeNull();
    table.delete(hash(raw));
    advance(1_001);
    expect(await resolver.resolve(raw)).toBeNull();
  });

  it('keeps serving known keys while the database is down, and fails unknown ones loudly', async () => {
    const raw = generateAccessKey();
    const table = new Map<string, KeyContext>();
    const { resolver, lookup, hash, advance } = setup(table);
    table.set(hash(raw), ctx('k1'));
    await resolver.resolve(raw);
    lookup.mockRejectedValue(new Error('connection refused'));
    advance(120_000);
    expect((await resolver.resolve(raw))?.accessKeyId).toBe('k1');
    await expect(resolver.resolve(generateAccessKey())).rejects.toThrow('connection refused');
  });
});
