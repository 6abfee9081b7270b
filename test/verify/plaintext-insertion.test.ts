import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { verify } from '../../src/verify/index.js';
import { fixtureBytes, readManifest } from './manifest.js';

/**
 * Issue 13's property: plaintext put anywhere into a file casedrop accepts — into its encrypted data,
 * its headers, its comments, its armor, before or after it — makes casedrop refuse the file. Every
 * accepted fixture made by the real tools is the seed (the 6 MB ZIP64 one aside: its regions are
 * those of the small ones, 65,536 times).
 */
const seeds = ['zip', '7z', 'openpgp', 'openssl'].flatMap((family) =>
  readManifest(family)
    .filter((entry) => entry.verdict === 'accept' && !entry.gzip)
    .map((entry) => ({ name: `${family}/${entry.file}`, bytes: fixtureBytes(family, entry).bytes })),
);

const SENTENCE = Buffer.from('2026-01-01T00:00:00 node-1 db password=hunter2, the VPN key is in /etc/vpn/key.pem; disk /var at 91%');

function overwrite(bytes: Buffer, at: number, text: Buffer): Buffer {
  const out = Buffer.from(bytes);
  text.copy(out, at, 0, Math.min(text.length, bytes.length - at));
  return out;
}

function insert(bytes: Buffer, at: number, text: Buffer): Buffer {
  return Buffer.concat([bytes.subarray(0, at), text, bytes.subarray(at)]);
}

async function expectRefused(bytes: Buffer, what: string): Promise<void> {
  const result = await verify({ buffer: bytes });
  expect(result.verdict, `${what}: ${result.reason} ${JSON.stringify(result.details).slice(0, 200)}`).toBe('reject');
}

describe('plaintext put into an accepted file', () => {
  it('the seeds are accepted as they are', async () => {
    expect(seeds.length).toBeGreaterThanOrEqual(20);
    for (const seed of seeds) expect((await verify({ buffer: seed.bytes })).verdict, seed.name).toBe('accept');
  });

  it.each(seeds.map((seed) => [seed.name, seed] as const))(
    '%s: a line of text written over it at every 8th offset, or inserted there, is refused',
    async (_name, seed) => {
      const { bytes } = seed;
      // written over the end, the text is cut short; those offsets are covered by insertion
      for (let at = 0; at + SENTENCE.length <= bytes.length; at += 8) await expectRefused(overwrite(bytes, at, SENTENCE), `${seed.name} overwritten at ${at}`);
      const insertAt = [...Array.from({ length: Math.ceil(bytes.length / 8) }, (_, i) => i * 8), bytes.length];
      for (const at of insertAt) await expectRefused(insert(bytes, at, SENTENCE), `${seed.name} inserted at ${at}`);
    },
  );

  it('random text of 65 to 400 characters anywhere, written over or inserted, is refused', async () => {
    const text = fc.string({
      unit: fc.constantFrom(...' abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789.,:;=/-_\n'),
      minLength: 65,
      maxLength: 400,
    });
    await fc.assert(
      fc.asyncProperty(fc.constantFrom(...seeds), fc.double({ min: 0, max: 1, noNaN: true }), text, fc.boolean(), async (seed, where, line, inserted) => {
        const at = Math.floor(where * seed.bytes.length);
        const plain = Buffer.from(line, 'latin1');
        if (!inserted && at + plain.length > seed.bytes.length) return; // cut short: the insertion runs cover the end
        await expectRefused(
          inserted ? insert(seed.bytes, at, plain) : overwrite(seed.bytes, at, plain),
          `${seed.name} ${inserted ? 'inserted' : 'overwritten'} at ${at}`,
        );
      }),
      { numRuns: 1500 },
    );
  });
});
