import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import fc from 'fast-check';
import { expect, it } from 'vitest';
import { parseMessage } from '../../src/pipeline/parse.js';
import { verify } from '../../src/verify/index.js';

/**
 * A fuzz run of the worker's entry point: real messages (the committed samples and the small
 * hostile ones), mutated by fast-check — bytes flipped, ranges cut or repeated, MIME syntax spliced
 * in — then parsed, and every attachment judged. Each input must settle (a parse or a typed
 * rejection, which the worker turns into an `unparseable` outcome) within a time bound, every
 * attachment must get a verdict, and memory must stay bounded. `FUZZ_SECONDS` (default 60) sets the
 * length, `FUZZ_SEED` replays a run.
 */
const SECONDS = Number(process.env.FUZZ_SECONDS ?? 60);
const SEED = Number(process.env.FUZZ_SEED ?? Math.floor(Math.random() * 2 ** 31));
const PER_INPUT_MS = 10_000;
const HEAP_BOUND = 512 * 1024 * 1024;

const root = join(import.meta.dirname, '../../fixtures');
const seeds = [
  ...readdirSync(join(root, 'mail'))
    .filter((n) => n.endsWith('.eml'))
    .map((n) => join(root, 'mail', n)),
  ...readdirSync(join(root, 'hostile/messages'))
    .filter((n) => n.endsWith('.eml'))
    .map((n) => join(root, 'hostile/messages', n)),
]
  .map((path) => readFileSync(path))
  .filter((b) => b.length < 256 * 1024);

// Fragments that steer mutations into the parser's interesting states.
const splices = [
  '\r\n',
  '\n',
  '\r',
  '--',
  '\r\n\r\n',
  'Content-Type: multipart/mixed; boundary="b"\r\n',
  '--b\r\n',
  '--b--\r\n',
  'Content-Transfer-Encoding: base64\r\n',
  'Content-Transfer-Encoding: quoted-printable\r\n',
  '=?utf-8?B?',
  '?=',
  "filename*=utf-8''%E2%80%AE",
  'Content-Type: message/rfc822\r\n',
  '\0',
  '=\r\n',
  'begin 644 x\r\n',
].map((s) => Buffer.from(s, 'latin1'));

const edit = fc.oneof(
  fc.record({ op: fc.constant('flip' as const), at: fc.double({ min: 0, max: 1, noNaN: true }), byte: fc.integer({ min: 0, max: 255 }) }),
  fc.record({ op: fc.constant('cut' as const), at: fc.double({ min: 0, max: 1, noNaN: true }), len: fc.integer({ min: 1, max: 4096 }) }),
  fc.record({
    op: fc.constant('repeat' as const),
    at: fc.double({ min: 0, max: 1, noNaN: true }),
    len: fc.integer({ min: 1, max: 512 }),
    times: fc.integer({ min: 2, max: 64 }),
  }),
  fc.record({ op: fc.constant('splice' as const), at: fc.double({ min: 0, max: 1, noNaN: true }), which: fc.nat(splices.length - 1) }),
);
type Edit = typeof edit extends fc.Arbitrary<infer T> ? T : never;

function mutate(input: Buffer, edits: Edit[]): Buffer {
  let b = input;
  for (const e of edits) {
    const at = Math.floor(e.at * b.length);
    if (e.op === 'flip') b = Buffer.concat([b.subarray(0, at), Buffer.from([e.byte]), b.subarray(at + 1)]);
    else if (e.op === 'cut') b = Buffer.concat([b.subarray(0, at), b.subarray(at + e.len)]);
    else if (e.op === 'repeat') b = Buffer.concat([b.subarray(0, at), ...Array<Buffer>(e.times).fill(b.subarray(at, at + e.len)), b.subarray(at)]);
    else b = Buffer.concat([b.subarray(0, at), splices[e.which]!, b.subarray(at)]);
  }
  return b;
}

async function judge(raw: Buffer): Promise<void> {
  const parsed = await parseMessage(raw).catch((err: unknown) => {
    // the worker answers these with an `unparseable` outcome; anything but an Error would escape it
    expect(err).toBeInstanceOf(Error);
    return undefined;
  });
  for (const part of parsed?.attachments ?? []) {
    const verdict = await verify({ name: part.filename, buffer: part.content });
    expect(['accept', 'reject']).toContain(verdict.verdict);
  }
}

function within<T>(ms: number, work: Promise<T>): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const late = new Promise<never>((_, reject) => (timer = setTimeout(() => reject(new Error(`no verdict within ${ms} ms`)), ms)));
  return Promise.race([work, late]).finally(() => clearTimeout(timer));
}

it(
  `parses and judges mutated real messages for ${SECONDS} s without a crash, a hang or unbounded memory`,
  async () => {
    console.log(`parser fuzz seed: ${SEED} (replay with FUZZ_SEED=${SEED}), ${SECONDS} s, ${seeds.length} seed messages`);
    let runs = 0;
    await fc.assert(
      fc.asyncProperty(fc.nat(seeds.length - 1), fc.array(edit, { minLength: 1, maxLength: 12 }), async (which, edits) => {
        runs++;
        await within(PER_INPUT_MS, judge(mutate(seeds[which]!, edits)));
        expect(process.memoryUsage().heapUsed).toBeLessThan(HEAP_BOUND);
      }),
      { seed: SEED, numRuns: Number.MAX_SAFE_INTEGER, interruptAfterTimeLimit: SECONDS * 1000, markInterruptAsFailure: false },
    );
    console.log(`parser fuzz: ${runs} inputs`);
    expect(runs).toBeGreaterThan(0);
  },
  (SECONDS + 120) * 1000,
);
