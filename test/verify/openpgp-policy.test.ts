import { describe, expect, it } from 'vitest';
import { judgeMessage, type MessageShape } from '../../src/verify/openpgp/policy.js';

// Branches no installed tool reaches: GnuPG 2.2 writes neither the LibrePGP AEAD packet (tag 20)
// nor anonymous recipients by default, and no tool wraps a session key with CAST5 any more.
const none = new Set<string>();
/** what gpg -c writes: iterated and salted, count octet 0xff */
const strong = { type: 'iterated', count: 65_011_712 };
const shape = (esks: Extract<MessageShape, { kind: 'encrypted' }>['esks'], data: Extract<MessageShape, { kind: 'encrypted' }>['data']): MessageShape => ({
  kind: 'encrypted',
  esks,
  data,
});

describe('OpenPGP policy', () => {
  it('accepts the LibrePGP AEAD packet (gpg 2.4 --rfc4880bis) with its visible cipher', () => {
    const result = judgeMessage(shape([{ kind: 'skesk', version: 5, s2k: strong, wrapCipher: 9 }], { tag: 20, version: 1, cipher: 9, aead: 2 }), none);
    expect(result).toMatchObject({ verdict: 'accept', reason: 'encrypted', cipher: 'AES-256', details: { data: 'AEAD v1', mode: 'OCB' } });
  });

  it('refuses a session key wrapped with a weak cipher even when the data cipher is hidden', () => {
    expect(judgeMessage(shape([{ kind: 'skesk', version: 4, s2k: strong, wrapCipher: 3 }], { tag: 18, version: 1 }), none)).toMatchObject({
      reason: 'weak-cipher',
      cipher: 'CAST5',
    });
  });

  it('refuses an unknown cipher id and an unknown AEAD mode', () => {
    expect(judgeMessage(shape([{ kind: 'skesk', version: 4, s2k: strong, dataCipher: 99 }], { tag: 18, version: 1 }), none)).toMatchObject({
      reason: 'weak-cipher',
      cipher: 'unknown cipher 99',
    });
    expect(judgeMessage(shape([{ kind: 'skesk', version: 6, s2k: strong, wrapCipher: 9 }], { tag: 18, version: 2, cipher: 9, aead: 7 }), none)).toMatchObject({
      reason: 'corrupt',
    });
  });

  it('refuses anonymous recipients, accepts the intake key id, and needs a session key at all', () => {
    expect(judgeMessage(shape([{ kind: 'pkesk', version: 3, keyId: null }], { tag: 18, version: 1 }), new Set(['0123456789abcdef']))).toMatchObject({
      reason: 'pgp-unknown-key',
    });
    expect(
      judgeMessage(shape([{ kind: 'pkesk', version: 3, keyId: '0123456789abcdef' }], { tag: 18, version: 1 }), new Set(['0123456789abcdef'])),
    ).toMatchObject({ verdict: 'accept' });
    expect(judgeMessage(shape([], { tag: 18, version: 1 }), none)).toMatchObject({ reason: 'corrupt' });
    expect(judgeMessage(shape([{ kind: 'skesk', version: 4, s2k: strong, dataCipher: 9 }], undefined), none)).toMatchObject({ reason: 'corrupt' });
  });

  it('refuses a passphrase key derived with the simple or salted S2K, too few iterations or too little Argon2 memory', () => {
    const data = { tag: 18, version: 1 } as const;
    for (const s2k of [{ type: 'simple' }, { type: 'salted' }, { type: 'iterated', count: 65_536 }, { type: 'argon2', memoryKiB: 1024 }]) {
      expect(judgeMessage(shape([{ kind: 'skesk', version: 4, dataCipher: 9, s2k }], data), none), s2k.type).toMatchObject({
        reason: 'weak-kdf',
        cipher: 'AES-256',
      });
    }
    expect(
      judgeMessage(
        shape([{ kind: 'skesk', version: 6, wrapCipher: 9, s2k: { type: 'argon2', memoryKiB: 65_536 } }], { tag: 18, version: 2, cipher: 9, aead: 2 }),
        none,
      ),
    ).toMatchObject({ verdict: 'accept' });
  });
});
