import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { verify } from '../../src/verify/index.js';
import { fixtureBytes, readManifest } from './manifest.js';

/** The small fixtures of a family (the 6 MB ZIP64 one would only slow the runs down). */
function seeds(family: string): Buffer[] {
  return readManifest(family)
    .filter((entry) => !entry.gzip)
    .map((entry) => fixtureBytes(family, entry).bytes);
}

const SPECIAL = [0, 1, 0xffff, 0xffffffff, 0x7fffffff, 46, 65_535];

/** One damage a hostile or broken sender could do: flipped bytes, lying integers, a cut, a copied slice. */
const mutation = fc.oneof(
  fc.record({ kind: fc.constant('flip' as const), at: fc.nat(), value: fc.integer({ min: 0, max: 255 }) }),
  fc.record({ kind: fc.constant('u32' as const), at: fc.nat(), value: fc.constantFrom(...SPECIAL) }),
  fc.record({ kind: fc.constant('u16' as const), at: fc.nat(), value: fc.constantFrom(...SPECIAL.map((v) => v & 0xffff)) }),
  fc.record({ kind: fc.constant('cut' as const), at: fc.nat(), value: fc.constant(0) }),
  fc.record({ kind: fc.constant('copy' as const), at: fc.nat(), value: fc.nat() }),
);
type Mutation = typeof mutation extends fc.Arbitrary<infer T> ? T : never;

function mutate(seed: Buffer, steps: Mutation[]): Buffer {
  let bytes = Buffer.from(seed);
  for (const step of steps) {
    if (bytes.length < 8) break;
    const at = step.at % bytes.length;
    if (step.kind === 'flip') bytes[at] = step.value;
    else if (step.kind === 'u32') bytes.writeUInt32LE(step.value >>> 0, Math.min(at, bytes.length - 4));
    else if (step.kind === 'u16') bytes.writeUInt16LE(step.value, Math.min(at, bytes.length - 2));
    else if (step.kind === 'cut') bytes = bytes.subarray(0, at);
    else bytes = Buffer.concat([bytes.subarray(0, at), bytes.subarray(step.value % bytes.length, (step.value % bytes.length) + 64), bytes.subarray(at)]);
  }
  return bytes;
}

describe.each(['zip', 'openssl'])('mutated %s fixtures', (family) => {
  const corpus = seeds(family);

  // a hang fails by the test timeout; how fast verdicts come is measured by npm run bench:verify, not here
  it('always get a verdict of their own and never throw', async () => {
    await fc.assert(
      fc.asyncProperty(fc.nat({ max: corpus.length - 1 }), fc.array(mutation, { minLength: 1, maxLength: 4 }), async (which, steps) => {
        const bytes = mutate(corpus[which]!, steps);
        const result = await verify({ buffer: bytes });
        expect(['accept', 'reject']).toContain(result.verdict);
        expect(typeof result.reason).toBe('string');
        if (result.verdict === 'reject') expect(result.advice.length).toBeGreaterThan(0);
        // a refusal of these detectors names the problem; `error` would mean one threw unexpectedly
        if (result.format === family || result.format === 'openssl-enc') expect(result.details).not.toHaveProperty('error');
      }),
      { numRuns: 400 },
    );
  });
});
