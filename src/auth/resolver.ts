import { Resolver } from 'node:dns/promises';

/**
 * The DNS resolver mailauth asks for SPF, DKIM, DMARC and ARC records, from the settings: the
 * configured servers (or the system's) and a per-query timeout. One try per query, so the timeout
 * bounds it; a timeout rejects with `ETIMEOUT`, which mailauth turns into `temperror` — a temporary
 * failure, never a reason to refuse for good.
 */
export type DnsResolver = (name: string, rrtype: string) => Promise<unknown>;

export interface ResolverSettings {
  servers: readonly string[];
  timeoutMs: number;
}

export function dnsResolver(s: ResolverSettings): DnsResolver {
  const resolver = new Resolver({ timeout: s.timeoutMs, tries: 1 });
  if (s.servers.length > 0) resolver.setServers([...s.servers]);
  return (name, rrtype) => resolver.resolve(name, rrtype);
}
