import { Resolver } from 'node:dns/promises';

/**
 * The DNS resolver mailauth asks for SPF, DKIM, DMARC and ARC records, from the settings: the
 * configured servers (or the system's) and a per-query timeout. One try per query, so the timeout
 * bounds it; a timeout rejects with `ETIMEOUT`, which mailauth turns into `temperror` — a temporary
 * failure, never a reason to refuse for good.
 *
 * Answers are kept a short while (see `cachedResolver`): a burst from one customer asks the same two
 * or three questions for every message, and asking the network each time made the intake worker
 * wait on DNS (and on every dropped packet's timeout) rather than work.
 */
export type DnsResolver = (name: string, rrtype: string) => Promise<unknown>;

export interface ResolverSettings {
  servers: readonly string[];
  timeoutMs: number;
}

export function dnsResolver(s: ResolverSettings): DnsResolver {
  const resolver = new Resolver({ timeout: s.timeoutMs, tries: 1 });
  if (s.servers.length > 0) resolver.setServers([...s.servers]);
  return cachedResolver((name, rrtype) => resolver.resolve(name, rrtype));
}

/** How long an answer (or a "no such name/record") is reused: a changed SPF or DMARC record is seen this much later at most. */
export const DNS_CACHE_MS = 60_000;
const DNS_CACHE_ENTRIES = 10_000;
/** Answers that are the zone's word; anything else (timeout, SERVFAIL, refused) may pass and is asked again. */
const SETTLED_ERRORS = new Set(['ENOTFOUND', 'ENODATA']);

type Settled = { until: number } & ({ answer: unknown } | { error: unknown });

/**
 * Wraps a resolver so that identical questions asked at once share one query, and answers (positive,
 * or NXDOMAIN/NODATA) are reused for `ttlMs`. Temporary failures are shared by the callers already
 * waiting but not kept: the next message asks again. Each caller gets its own copy of an answer, so
 * nothing mailauth does to one can change another's.
 */
export function cachedResolver(inner: DnsResolver, ttlMs = DNS_CACHE_MS, now: () => number = Date.now, maxEntries = DNS_CACHE_ENTRIES): DnsResolver {
  const settled = new Map<string, Settled>();
  const asking = new Map<string, Promise<unknown>>();
  const keep = (key: string, entry: Settled): void => {
    settled.delete(key);
    settled.set(key, entry);
    // Map iterates in insertion order: the first key is the oldest answer
    if (settled.size > maxEntries) settled.delete(settled.keys().next().value!);
  };
  return async (name, rrtype) => {
    const key = `${rrtype} ${name.toLowerCase()}`;
    const hit = settled.get(key);
    if (hit && hit.until > now()) {
      if ('error' in hit) throw hit.error;
      return structuredClone(hit.answer);
    }
    let pending = asking.get(key);
    if (!pending) {
      pending = inner(name, rrtype).then(
        (answer) => {
          keep(key, { until: now() + ttlMs, answer });
          return answer;
        },
        (error: unknown) => {
          if (SETTLED_ERRORS.has((error as { code?: string }).code ?? '')) keep(key, { until: now() + ttlMs, error });
          throw error;
        },
      );
      const forget = () => asking.delete(key);
      pending.then(forget, forget);
      asking.set(key, pending);
    }
    return structuredClone(await pending);
  };
}
