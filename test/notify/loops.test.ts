import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { Outcome } from '../../src/jobs/types.js';
import { redisKey } from '../../src/redis-keys.js';
import { CASE, makeOutcome, OWNER, REFUSED_TXT, startHarness, type Harness } from './helpers.js';
import { startSink, type Sink } from './sink.js';

/**
 * Mail loops and floods (RFC 3834): every message that must not be answered gets no reply, with
 * its reason in the log; the engineer is told all the same. The rate limit caps the rest.
 */
let sink: Sink;
let h: Harness;

beforeEach(async () => {
  sink = await startSink();
  h = await startHarness({
    CASEDROP_RELAY_URL: sink.url,
    CASEDROP_INTAKE_ADDRESSES: 'attach@localhost,files@casedrop.example',
    CASEDROP_REPLY_RATE_PER_HOUR: '2',
  });
});

afterEach(async () => {
  await h.close();
  await sink.close();
});

const headers = (extra: string) => `From: x@example.com\r\nSubject: Case ${CASE}\r\n${extra}`;

const loopCases: [string, Partial<Outcome>, string][] = [
  ['null sender', { mailFrom: '' }, 'null-sender'],
  ['null sender in brackets', { mailFrom: '<>' }, 'null-sender'],
  ['an intake address', { mailFrom: 'Files@Casedrop.example' }, 'own-address'],
  ['an intake sub-address', { mailFrom: `attach+${CASE}@localhost` }, 'own-address'],
  ['MAILER-DAEMON', { mailFrom: 'MAILER-DAEMON@relay.example.com' }, 'mailer-daemon'],
  ['owner-*', { mailFrom: 'owner-support@lists.example.com' }, 'owner-alias'],
  ['*-request', { mailFrom: 'support-request@lists.example.com' }, 'request-alias'],
  ['automatic, as the door recorded it', { automatic: true }, 'automatic'],
  ['Auto-Submitted: auto-replied', { originalHeaders: headers('Auto-Submitted: auto-replied') }, 'auto-submitted'],
  ['Auto-Submitted: auto-generated with a parameter', { originalHeaders: headers('Auto-Submitted: Auto-Generated; owner-email="x@y"') }, 'auto-submitted'],
  ['Precedence: bulk', { originalHeaders: headers('Precedence: bulk') }, 'precedence'],
  ['Precedence: junk', { originalHeaders: headers('Precedence: junk') }, 'precedence'],
  ['Precedence: list', { originalHeaders: headers('Precedence: List') }, 'precedence'],
  ['List-Id', { originalHeaders: headers('List-Id: Support <support.lists.example.com>') }, 'list-id'],
];

describe('loop protection', () => {
  it.each(loopCases)('sends nothing to the sender for %s, logs why, and still tells the engineer', async (_name, overrides, reason) => {
    const outcome = makeOutcome({ kind: 'refused', stored: [], refused: [REFUSED_TXT], ...overrides });
    await h.notify(outcome);
    expect(await h.queues.outbound.getJob(`${outcome.spoolId}-sender`)).toBeUndefined();
    const mails = await sink.waitFor(1);
    expect(mails.map((m) => m.rcptTo)).toEqual([[OWNER]]);
    expect(mails[0]!.parsed.text).toContain(`Reply to the sender: none (${reason})`);
    const logged = h.logLines.filter((l) => l.msg === 'sender reply suppressed');
    expect(logged).toHaveLength(1);
    expect(logged[0]).toMatchObject({ reason, spoolId: outcome.spoolId });
  });

  it('answers a message whose Auto-Submitted is "no"', async () => {
    const outcome = makeOutcome({ originalHeaders: headers('Auto-Submitted: no') });
    await h.notify(outcome);
    expect(await (await h.settle('outbound', `${outcome.spoolId}-sender`)).getState()).toBe('completed');
  });
});

describe('reply cap', () => {
  it('answers at most N messages per sender per hour separately, counting the address case-insensitively; the rest joins a digest', async () => {
    const senders = ['customer@example.com', 'Customer@Example.com', 'customer@example.com', 'other@example.com'];
    const outcomes = senders.map((mailFrom) => makeOutcome({ mailFrom }));
    for (const o of outcomes) await h.notify(o);
    const replied = [];
    for (const o of outcomes) replied.push((await h.queues.outbound.getJob(`${o.spoolId}-sender`)) !== undefined);
    expect(replied).toEqual([true, true, false, true]);
    const digested = h.logLines.filter((l) => l.event === 'reply_digested');
    expect(digested).toHaveLength(1);
    expect(digested[0]).toMatchObject({ cap: 'sender', spoolId: outcomes[2]!.spoolId });
    const digests = (await h.queues.outbound.getJobs(['delayed'])).filter((j) => j.data.kind === 'digest');
    expect(digests).toHaveLength(1);
    // 3 sender replies + 4 engineer notices now; the digest waits for its slot
    expect(await sink.waitFor(7)).toHaveLength(7);
    expect(await h.redis.ttl(redisKey.capCount(h.config.redisPrefix, 'sender', 'customer@example.com'))).toBeGreaterThan(3500);
  });

  it('does not count suppressed loop mail against the sender', async () => {
    await h.notify(makeOutcome({ automatic: true }));
    await h.notify(makeOutcome({ automatic: true }));
    const answered = makeOutcome();
    await h.notify(answered);
    expect(await h.queues.outbound.getJob(`${answered.spoolId}-sender`)).toBeDefined();
    expect(await h.redis.get(redisKey.capCount(h.config.redisPrefix, 'sender', 'customer@example.com'))).toBe('1');
  });
});
