import { Readable } from 'node:stream';
import { UnrecoverableError } from 'bullmq';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { outcomeSchema, spoolMetaSchema } from '../../src/jobs/records.js';
import { readOutcome } from '../../src/notify/outcome.js';
import type { ObjectStore } from '../../src/store/types.js';
import { testConfig } from '../helpers/env.js';
import { makeOutcome } from '../notify/helpers.js';
import { openTestStore } from '../pipeline/helpers.js';

describe('stored records', () => {
  it('fills the defaults older spool metadata lacks, and keeps every field the door writes', () => {
    const meta = spoolMetaSchema.parse({ spoolId: 'S1', caseNumber: '612345678', receivedAt: '2025-01-14T10:00:00.000Z', mailFrom: '' });
    expect(meta).toEqual({
      spoolId: 'S1',
      caseNumber: '612345678',
      receivedAt: '2025-01-14T10:00:00.000Z',
      mailFrom: '',
      rcptTo: [],
      clientAddress: '',
      sessionId: '',
      automatic: false,
    });
    const full = {
      ...meta,
      rcptTo: ['attach@localhost'],
      messageId: '<a@b>',
      subject: 'Case 612345678',
      heloName: 'h',
      clientAddress: '192.0.2.1',
      sessionId: 'x',
      automatic: true,
    };
    expect(spoolMetaSchema.parse(full)).toEqual(full);
  });

  it('refuses spool metadata without a case number or with a wrongly typed field', () => {
    expect(spoolMetaSchema.safeParse({ spoolId: 'S1', receivedAt: 'x', mailFrom: '' }).success).toBe(false);
    expect(spoolMetaSchema.safeParse({ spoolId: 'S1', caseNumber: '612345678', receivedAt: 'x', mailFrom: '', rcptTo: 'a@b' }).success).toBe(false);
  });

  it('reads back an outcome exactly as the intake worker wrote it', () => {
    const outcome = makeOutcome({
      noteId: 'cases/612345678/notes/S1',
      refused: [{ originalName: 'a.txt', size: 1, format: 'unknown', reason: 'pgp-unknown-key', advice: 'x' }],
    });
    expect(outcomeSchema.parse(JSON.parse(JSON.stringify(outcome)))).toEqual(outcome);
  });

  it.each([
    ['an unknown kind', { kind: 'lost' }],
    ['a refusal with a reason code outside the table', { refused: [{ originalName: 'a', size: 1, format: 'zip', reason: 'no-such-code', advice: '' }] }],
    ['a stored file without its hash', { stored: [{ id: 'x', originalName: 'a', storedName: 'a', size: 1, format: 'zip' }] }],
    ['a negative size', { stored: [{ id: 'x', originalName: 'a', storedName: 'a', size: -1, sha256: 'a', format: 'zip' }] }],
  ])('refuses an outcome with %s', (_name, change) => {
    expect(outcomeSchema.safeParse({ ...makeOutcome(), ...change }).success).toBe(false);
  });
});

describe('readOutcome', () => {
  let store: ObjectStore;
  let cleanup: () => Promise<void>;
  beforeEach(async () => {
    const t = testConfig();
    cleanup = t.cleanup;
    store = await openTestStore(t.config);
  });
  afterEach(() => cleanup());

  const put = (name: string, text: string) => store.put('outcomes', Readable.from([Buffer.from(text)]), {}, { name });

  it('fails the job for good, naming the field, when the record is not an outcome', async () => {
    await put('bad', JSON.stringify({ ...makeOutcome(), kind: 'lost' }));
    const err = await readOutcome(store, 'outcomes/bad').catch((e: unknown) => e);
    expect(err).toBeInstanceOf(UnrecoverableError);
    expect((err as Error).message).toMatch(/^outcomes\/bad: not an outcome \(kind: /);
  });

  it('fails the job for good when the record is not JSON, and reads a good one whole', async () => {
    await put('junk', '{');
    await expect(readOutcome(store, 'outcomes/junk')).rejects.toThrow('outcomes/junk: not JSON');
    const good = makeOutcome();
    await put(good.spoolId, JSON.stringify(good));
    expect(await readOutcome(store, `outcomes/${good.spoolId}`)).toEqual(good);
  });
});
