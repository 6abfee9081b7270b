import { Readable } from 'node:stream';
import { describe, expect, it } from 'vitest';
import { TrustedNetworks } from '../../src/auth/check.js';
import { checkSpooled } from '../../src/auth/spooled.js';
import type { ObjectStore } from '../../src/store/types.js';

/**
 * The worker's sender check reads the body only when a signature needs it: a store whose body
 * bytes fail to read shows which messages were read to the end.
 */
const HEAD = 'Received: from x\r\nFrom: a@example.com\r\nSubject: Case 612345678\r\n';
const body = 'Content-Type: text/plain\r\n\r\nhello\r\n';

function storeFailingAfterHeaders(head: string): ObjectStore {
  return {
    get: () =>
      Promise.resolve(
        Readable.from(
          (async function* () {
            yield Buffer.from(`${head}${body}`);
            throw new Error('body read');
          })(),
        ),
      ),
  } as unknown as ObjectStore;
}

const options = {
  resolver: () => Promise.reject(Object.assign(new Error('no DNS here'), { code: 'ENOTFOUND' })),
  hostname: 'mx.test',
  trusted: new TrustedNetworks([]),
};
const env = { clientAddress: '192.0.2.1', mailFrom: 'a@example.com' };

describe('checkSpooled', () => {
  it('checks an unsigned message from its header block, without reading the body', async () => {
    const auth = await checkSpooled(storeFailingAfterHeaders(HEAD), 'spool/x', env, options);
    expect(auth.dkim).toEqual([]);
  });

  it('reads a signed message to the end (the body hash needs it)', async () => {
    const signed = `DKIM-Signature: v=1; a=rsa-sha256; d=example.com; s=s; h=from; bh=x; b=y\r\n${HEAD}`;
    await expect(checkSpooled(storeFailingAfterHeaders(signed), 'spool/x', env, options)).rejects.toThrow('body read');
  });
});
