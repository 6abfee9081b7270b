import { randomBytes } from 'node:crypto';
import { Readable } from 'node:stream';
import { setTimeout as sleep } from 'node:timers/promises';
import type { Redis } from 'ioredis';
import { CasedropError, ErrorCode } from '../errors.js';
import { auditNamespace } from '../jobs/ids.js';
import { redisKey } from '../redis-keys.js';
import { isProcessAlive, thisHost } from '../store/fs-temp.js';
import type { ObjectStore } from '../store/types.js';
import { chainProblems, entryHash, type ChainHead } from './chain.js';
import { GENESIS, type AuditEntry, type AuditEvent, type AuditSink } from './types.js';

const LOCK_MS = 10_000;
const LOCK_TRIES = 3000;
const RELEASE = `if redis.call('GET', KEYS[1]) == ARGV[1] then return redis.call('DEL', KEYS[1]) end return 0`;

export { auditNamespace };
const entryName = (seq: number): string => String(seq).padStart(12, '0');

/**
 * The per-case audit log: one encrypted object per entry (`audit/<case>/<seq>`, under the master
 * key: it must outlive a purge of the case), hash-chained. Redis keeps the chain head, so removing
 * the last entries is detected too, and the event ids already appended, so retried jobs append once.
 * Appends to one case are serialised by a short Redis lock; an append that crashed after writing its
 * entry but before moving the head is adopted by the next one.
 */
export class AuditLog implements AuditSink {
  constructor(
    private readonly store: ObjectStore,
    private readonly redis: Redis,
    private readonly prefix: string,
    private readonly now: () => Date = () => new Date(),
  ) {}

  async append(caseNumber: string, event: AuditEvent): Promise<AuditEntry | undefined> {
    return (await this.appendMany(caseNumber, [event]))[0];
  }

  /** Several events under one lock (a message's files): one wait for the lock instead of one per file. */
  async appendMany(caseNumber: string, events: readonly AuditEvent[]): Promise<(AuditEntry | undefined)[]> {
    if (events.length === 0) return [];
    return this.locked(caseNumber, async () => {
      let head = await this.currentHead(caseNumber);
      const written: (AuditEntry | undefined)[] = [];
      for (const event of events) {
        if (event.eventId !== undefined && (await this.redis.sismember(redisKey.auditEvents(this.prefix, caseNumber), event.eventId)) === 1) {
          written.push(undefined);
          continue;
        }
        const draft = { ...event, case: caseNumber, seq: head.seq + 1, time: this.now().toISOString(), prev: head.hash };
        const entry: AuditEntry = { ...draft, hash: entryHash(draft) };
        await this.store.put(auditNamespace(caseNumber), Readable.from([Buffer.from(JSON.stringify(entry))]), { kind: 'audit', seq: entry.seq }, { name: entryName(entry.seq) });
        await this.advance(caseNumber, entry);
        head = { seq: entry.seq, hash: entry.hash };
        written.push(entry);
      }
      return written;
    });
  }

  /** Entries in order, as stored (unreadable entries throw). */
  async read(caseNumber: string): Promise<AuditEntry[]> {
    const entries: AuditEntry[] = [];
    for (const id of await this.store.list(`${auditNamespace(caseNumber)}/`)) entries.push(await this.readEntry(id));
    return entries;
  }

  async verify(caseNumber: string): Promise<{ entries: number; problems: string[] }> {
    const entries: AuditEntry[] = [];
    const problems: string[] = [];
    for (const id of await this.store.list(`${auditNamespace(caseNumber)}/`)) {
      try {
        entries.push(await this.readEntry(id));
      } catch (err) {
        problems.push(`${id}: unreadable (${(err as CasedropError).code ?? ''} ${(err as Error).message})`);
      }
    }
    return { entries: entries.length, problems: [...problems, ...chainProblems(caseNumber, entries, await this.storedHead(caseNumber))] };
  }

  private async readEntry(id: string): Promise<AuditEntry> {
    const chunks: Buffer[] = [];
    for await (const c of await this.store.get(id)) chunks.push(c as Buffer);
    return JSON.parse(Buffer.concat(chunks).toString('utf8')) as AuditEntry;
  }

  private async currentHead(caseNumber: string): Promise<ChainHead> {
    let head = await this.storedHead(caseNumber);
    if (!head) head = await this.rebuild(caseNumber);
    // an append that died between writing its entry and moving the head: adopt the entry
    for (;;) {
      const next = `${auditNamespace(caseNumber)}/${entryName(head.seq + 1)}`;
      if (!(await this.store.exists(next))) return head;
      const entry = await this.readEntry(next);
      await this.advance(caseNumber, entry);
      head = { seq: entry.seq, hash: entry.hash };
    }
  }

  /** Redis lost the head (a fresh Redis, a restore): take it, and the event ids, from the entries. */
  private async rebuild(caseNumber: string): Promise<ChainHead> {
    let head: ChainHead = { seq: 0, hash: GENESIS };
    for (const entry of await this.read(caseNumber)) {
      if (entry.eventId !== undefined) await this.redis.sadd(redisKey.auditEvents(this.prefix, caseNumber), entry.eventId);
      head = { seq: entry.seq, hash: entry.hash };
    }
    await this.redis.set(redisKey.auditHead(this.prefix, caseNumber), JSON.stringify(head));
    return head;
  }

  private async storedHead(caseNumber: string): Promise<ChainHead | undefined> {
    const raw = await this.redis.get(redisKey.auditHead(this.prefix, caseNumber));
    return raw ? (JSON.parse(raw) as ChainHead) : undefined;
  }

  private async advance(caseNumber: string, entry: AuditEntry): Promise<void> {
    const tx = this.redis.multi().set(redisKey.auditHead(this.prefix, caseNumber), JSON.stringify({ seq: entry.seq, hash: entry.hash }));
    if (entry.eventId !== undefined) tx.sadd(redisKey.auditEvents(this.prefix, caseNumber), entry.eventId);
    await tx.exec();
  }

  /**
   * One appender per case at a time. The token names this host and process, so a waiter on the same
   * host takes over at once from a process that was killed holding it (workers are killed and
   * restarted; waiting out LOCK_MS each time would stall every append of the case).
   */
  private async locked<T>(caseNumber: string, fn: () => Promise<T>): Promise<T> {
    const lock = redisKey.auditLock(this.prefix, caseNumber);
    const token = `${thisHost}.${process.pid}.${randomBytes(6).toString('hex')}`;
    for (let i = 0; ; i++) {
      if ((await this.redis.set(lock, token, 'PX', LOCK_MS, 'NX')) === 'OK') break;
      if (i >= LOCK_TRIES) throw new CasedropError(ErrorCode.StorageFailed, `audit log of case ${caseNumber} stayed locked; try again`);
      const holder = await this.redis.get(lock);
      if (holder && holderIsDead(holder)) await this.redis.eval(RELEASE, 1, lock, holder);
      else await sleep(5);
    }
    try {
      return await fn();
    } finally {
      await this.redis.eval(RELEASE, 1, lock, token).catch(() => undefined);
    }
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
  const printable = (s: unknown) => String(s ?? '').replace(/[\u0000-\u001f\u007f]/g, '?');
  return [e.seq, e.time, e.type, printable(e.actor), e.channel ?? '', printable(f.storedName ?? f.originalName), f.size ?? '', f.sha256 ?? '', printable(e.reason)].join('\t').trimEnd();
}
