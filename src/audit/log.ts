import { randomBytes } from 'node:crypto';
import { Readable } from 'node:stream';
import { setTimeout as sleep } from 'node:timers/promises';
import type { Redis } from 'ioredis';
import { CasedropError, ErrorCode } from '../errors.js';
import { auditNamespace } from '../jobs/ids.js';
import { redisKey } from '../redis-keys.js';
import { redisScript } from '../redis.js';
import { isProcessAlive, thisHost } from '../store/fs-temp.js';
import type { ObjectStore } from '../store/types.js';
import { chainProblems, entryHash, type ChainHead } from './chain.js';
import { GENESIS, type AuditEntry, type AuditEvent, type AuditSink } from './types.js';

const LOCK_MS = 10_000;
const WAIT_TRIES = 4000;
const BATCH = 500;
const RELEASE = `if redis.call('GET', KEYS[1]) == ARGV[1] then return redis.call('DEL', KEYS[1]) end return 0`;
// KEYS: queued counter, pending list; ARGV: events as JSON. Numbers and order are one atomic step.
const PUSH = `local last = 0
for i = 1, #ARGV do
  last = redis.call('INCR', KEYS[1])
  redis.call('RPUSH', KEYS[2], tostring(last) .. '\\n' .. ARGV[i])
end
return last`;

export { auditNamespace };
const segmentName = (firstSeq: number): string => String(firstSeq).padStart(12, '0');

interface LocalFlush {
  flushing?: Promise<unknown>;
  flushedTo: number;
}

/** One stored object: consecutive entries appended together, and the last queued event id they cover. */
interface Segment {
  to: number;
  entries: AuditEntry[];
}

/**
 * The per-case audit log, hash-chained (each entry holds the previous entry's hash), stored encrypted
 * in the object store (`audit/<case>/<first seq>`, under the master key: it must outlive a purge).
 *
 * Group commit: an append queues its events in Redis, then whoever holds the case's lock writes every
 * queued event as one segment object (one fsync for a burst of messages of one case, not one each),
 * moves the chain head and marks them flushed; the others wait until their events are flushed. Redis
 * keeps the chain head (so removing the last entries is detected) and the event ids written (so a
 * retried step appends once). A flusher killed after writing its segment is adopted by the next one.
 * Within one process, waiters wait on the process's own flush in progress (no Redis polling), and
 * the next flush takes every event queued meanwhile: under a burst, one segment per flush, not per message.
 */
export class AuditLog implements AuditSink {
  /** per case: this process's flush in progress, and the highest event number its flushes wrote */
  private readonly local = new Map<string, LocalFlush>();

  private readonly push: (...keysThenArgs: string[]) => Promise<unknown>;
  private readonly release: (...keysThenArgs: string[]) => Promise<unknown>;

  constructor(
    private readonly store: ObjectStore,
    private readonly redis: Redis,
    private readonly prefix: string,
    private readonly now: () => Date = () => new Date(),
  ) {
    this.push = redisScript(redis, 'casedropAuditPush', PUSH, 2);
    this.release = redisScript(redis, 'casedropAuditRelease', RELEASE, 1);
  }

  async append(caseNumber: string, event: AuditEvent): Promise<void> {
    await this.appendMany(caseNumber, [event]);
  }

  /** Returns once the events are in the stored chain (or were already, by event id). */
  async appendMany(caseNumber: string, events: readonly AuditEvent[]): Promise<void> {
    if (events.length === 0) return;
    const k = this.keys(caseNumber);
    const mine = Number(await this.push(k.queued, k.pending, ...events.map((e) => JSON.stringify(e))));
    const here = this.localState(caseNumber);
    for (let i = 0; ; i++) {
      // this process's own flush covers most waiters: wait for it instead of polling Redis every 5 ms
      if (here.flushedTo >= mine) return;
      if (here.flushing) {
        await here.flushing.catch(() => undefined);
        continue;
      }
      if (Number((await this.redis.get(k.flushed)) ?? 0) >= mine) return;
      if (here.flushing) continue;
      const token = `${thisHost}.${process.pid}.${randomBytes(6).toString('hex')}`;
      if ((await this.redis.set(k.lock, token, 'PX', LOCK_MS, 'NX')) === 'OK') {
        here.flushing = this.flushHolding(caseNumber, here, token);
        await here.flushing;
        continue;
      }
      if (i >= WAIT_TRIES) throw new CasedropError(ErrorCode.StorageFailed, `audit log of case ${caseNumber} stayed locked; try again`);
      const holder = await this.redis.get(k.lock);
      // a process on this host killed while flushing: take over at once instead of waiting LOCK_MS
      if (holder && holderIsDead(holder)) await this.release(k.lock, holder);
      else await sleep(5);
    }
  }

  /** Entries in order, as stored (unreadable segments throw). */
  async read(caseNumber: string): Promise<AuditEntry[]> {
    const entries: AuditEntry[] = [];
    for (const id of await this.store.list(`${auditNamespace(caseNumber)}/`)) entries.push(...(await this.readSegment(id)).entries);
    return entries;
  }

  async verify(caseNumber: string): Promise<{ entries: number; problems: string[] }> {
    const entries: AuditEntry[] = [];
    const problems: string[] = [];
    for (const id of await this.store.list(`${auditNamespace(caseNumber)}/`)) {
      try {
        entries.push(...(await this.readSegment(id)).entries);
      } catch (err) {
        problems.push(`${id}: unreadable (${(err as CasedropError).code ?? ''} ${(err as Error).message})`);
      }
    }
    return { entries: entries.length, problems: [...problems, ...chainProblems(caseNumber, entries, await this.storedHead(caseNumber))] };
  }

  private async flushHolding(caseNumber: string, here: LocalFlush, token: string): Promise<void> {
    try {
      await this.flushAll(caseNumber, here);
    } finally {
      await this.release(this.keys(caseNumber).lock, token).catch(() => undefined);
      here.flushing = undefined;
    }
  }

  private localState(caseNumber: string): LocalFlush {
    let st = this.local.get(caseNumber);
    if (!st) this.local.set(caseNumber, (st = { flushedTo: 0 }));
    return st;
  }

  private async flushAll(caseNumber: string, here: LocalFlush): Promise<void> {
    const k = this.keys(caseNumber);
    let head = await this.currentHead(caseNumber);
    for (;;) {
      const raw = await this.redis.lrange(k.pending, 0, BATCH - 1);
      if (raw.length === 0) return;
      const queued = raw.map((line) => ({
        id: Number(line.slice(0, line.indexOf('\n'))),
        event: JSON.parse(line.slice(line.indexOf('\n') + 1)) as AuditEvent,
      }));
      const to = queued.at(-1)!.id;
      const entries = await this.chain(
        caseNumber,
        head,
        queued.map((q) => q.event),
      );
      if (entries.length > 0) {
        const segment: Segment = { to, entries };
        await this.store.put(
          auditNamespace(caseNumber),
          Readable.from([Buffer.from(JSON.stringify(segment))]),
          { kind: 'audit', seq: entries[0]!.seq },
          { name: segmentName(entries[0]!.seq) },
        );
        head = { seq: entries.at(-1)!.seq, hash: entries.at(-1)!.hash };
      }
      await this.advance(caseNumber, head, entries, raw.length, to);
      // the pending list is in number order, so every event up to `to` is in the stored chain now
      here.flushedTo = Math.max(here.flushedTo, to);
    }
  }

  /** New entries for the events not yet in the chain (by event id), linked from `head`. */
  private async chain(caseNumber: string, head: ChainHead, events: AuditEvent[]): Promise<AuditEntry[]> {
    const ids = events.map((e) => e.eventId).filter((x): x is string => x !== undefined);
    const known = new Set<string>();
    if (ids.length > 0) {
      const member = await this.redis.smismember(this.keys(caseNumber).events, ...ids);
      ids.forEach((id, i) => member[i] === 1 && known.add(id));
    }
    const entries: AuditEntry[] = [];
    let prev = head;
    const time = this.now().toISOString();
    for (const event of events) {
      if (event.eventId !== undefined && known.has(event.eventId)) continue;
      if (event.eventId !== undefined) known.add(event.eventId);
      const draft = { ...event, case: caseNumber, seq: prev.seq + 1, time, prev: prev.hash };
      const entry: AuditEntry = { ...draft, hash: entryHash(draft) };
      entries.push(entry);
      prev = { seq: entry.seq, hash: entry.hash };
    }
    return entries;
  }

  private async readSegment(id: string): Promise<Segment> {
    const chunks: Buffer[] = [];
    for await (const c of await this.store.get(id)) chunks.push(c as Buffer);
    return JSON.parse(Buffer.concat(chunks).toString('utf8')) as Segment;
  }

  private async currentHead(caseNumber: string): Promise<ChainHead> {
    let head = await this.storedHead(caseNumber);
    if (!head) head = await this.rebuild(caseNumber);
    // a flush killed between writing its segment and moving the head: adopt the segment
    for (;;) {
      const next = `${auditNamespace(caseNumber)}/${segmentName(head.seq + 1)}`;
      if (!(await this.store.exists(next))) return head;
      const segment = await this.readSegment(next);
      const last = segment.entries.at(-1)!;
      head = { seq: last.seq, hash: last.hash };
      await this.adopt(caseNumber, head, segment);
    }
  }

  /** Drops the queued events a segment already holds, and moves the head past it. */
  private async adopt(caseNumber: string, head: ChainHead, segment: Segment): Promise<void> {
    const k = this.keys(caseNumber);
    let covered = 0;
    for (const line of await this.redis.lrange(k.pending, 0, BATCH - 1)) {
      if (Number(line.slice(0, line.indexOf('\n'))) > segment.to) break;
      covered++;
    }
    await this.advance(caseNumber, head, segment.entries, covered, segment.to);
  }

  /** Redis lost the head (a fresh Redis, a restore): take it, and the event ids, from the segments. */
  private async rebuild(caseNumber: string): Promise<ChainHead> {
    const k = this.keys(caseNumber);
    let head: ChainHead = { seq: 0, hash: GENESIS };
    let to = 0;
    for (const id of await this.store.list(`${auditNamespace(caseNumber)}/`)) {
      const segment = await this.readSegment(id);
      const ids = segment.entries.map((e) => e.eventId).filter((x): x is string => x !== undefined);
      if (ids.length > 0) await this.redis.sadd(k.events, ...ids);
      const last = segment.entries.at(-1);
      if (last) head = { seq: last.seq, hash: last.hash };
      to = Math.max(to, segment.to);
    }
    await this.redis.set(k.head, JSON.stringify(head));
    return head;
  }

  private async storedHead(caseNumber: string): Promise<ChainHead | undefined> {
    const raw = await this.redis.get(this.keys(caseNumber).head);
    return raw ? (JSON.parse(raw) as ChainHead) : undefined;
  }

  private async advance(caseNumber: string, head: ChainHead, entries: AuditEntry[], dequeued: number, flushedTo: number): Promise<void> {
    const k = this.keys(caseNumber);
    const ids = entries.map((e) => e.eventId).filter((x): x is string => x !== undefined);
    const tx = this.redis.multi().set(k.head, JSON.stringify(head));
    if (ids.length > 0) tx.sadd(k.events, ...ids);
    if (dequeued > 0) tx.ltrim(k.pending, dequeued, -1);
    tx.set(k.flushed, String(flushedTo));
    await tx.exec();
  }

  private keys(caseNumber: string) {
    const p = this.prefix;
    return {
      head: redisKey.auditHead(p, caseNumber),
      events: redisKey.auditEvents(p, caseNumber),
      lock: redisKey.auditLock(p, caseNumber),
      pending: redisKey.auditPending(p, caseNumber),
      queued: redisKey.auditQueued(p, caseNumber),
      flushed: redisKey.auditFlushed(p, caseNumber),
    };
  }
}

function holderIsDead(token: string): boolean {
  const m = /^([A-Za-z0-9-]+)\.(\d+)\.[0-9a-f]+$/.exec(token);
  if (!m || m[1] !== thisHost) return false;
  const pid = Number(m[2]);
  return pid !== process.pid && !isProcessAlive(pid);
}

/** Pure: one line per entry for `casedrop case audit`. */
export function formatEntry(e: AuditEntry): string {
  const f = e.file ?? {};
  // eslint-disable-next-line no-control-regex -- control characters are what this removes
  const printable = (s: unknown) => String(s ?? '').replace(/[\u0000-\u001f\u007f]/g, '?');
  return [
    e.seq,
    e.time,
    e.type,
    printable(e.actor),
    e.channel ?? '',
    printable(f.storedName ?? f.originalName),
    f.size ?? '',
    f.sha256 ?? '',
    printable(e.reason),
  ]
    .join('\t')
    .trimEnd();
}
