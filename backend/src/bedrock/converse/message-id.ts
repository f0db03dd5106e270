/**
 * Converse answers carry no message id; the client gets one shaped like Bedrock's own native
 * ids (`msg_bdrk_01…`, 22 base-62 characters after the prefix), fresh per answer.
 */

import { randomBytes } from 'node:crypto';

const ALPHABET = '0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz';

export function newMessageId(): string {
  const bytes = randomBytes(22);
  let id = 'msg_bdrk_01';
  for (const byte of bytes) id += ALPHABET[byte % ALPHABET.length];
  return id;
}
