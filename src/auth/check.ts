import { BlockList, isIP } from 'node:net';
import type { Readable } from 'node:stream';
import { authenticate } from 'mailauth';
import type { DnsResolver } from './resolver.js';
import type { SenderAuth } from './types.js';

/**
 * Runs mailauth (SPF for client IP, HELO and MAIL FROM; DKIM; ARC; DMARC alignment) over one
 * message as a stream, in constant memory: mailauth hashes the body as it passes and holds only the
 * header block, which the SMTP door has already bounded. BIMI is not checked (no one here shows logos).
 */
export interface Envelope {
  clientAddress: string;
  heloName?: string;
  mailFrom: string;
}

export interface CheckOptions {
  resolver: DnsResolver;
  /** our host name, the authserv-id of Authentication-Results */
  hostname: string;
  trusted: TrustedNetworks;
}

/**
 * A message may carry any number of DKIM-Signature and ARC headers, each a key look-up: past this
 * many queries per message the rest get "no such record", so the extra signatures fail (closed)
 * instead of making casedrop a DNS amplifier. SPF has its own RFC 7208 limit of 10 inside mailauth.
 */
export const MAX_DNS_QUERIES_PER_MESSAGE = 40;

export async function checkSender(message: Readable, env: Envelope, o: CheckOptions): Promise<SenderAuth> {
  const resolver = budgeted(o.resolver, MAX_DNS_QUERIES_PER_MESSAGE);
  const res = await authenticate(message, {
    ip: env.clientAddress,
    helo: env.heloName,
    sender: env.mailFrom,
    mta: o.hostname,
    resolver: resolver as never,
    disableBimi: true,
  });
  return digest(res as unknown as MailauthResult, env, o.trusted.has(env.clientAddress));
}

interface MailauthResult {
  spf?: { domain?: string; status?: { result?: string } } | false;
  dkim?: { headerFrom?: string[]; results?: { signingDomain?: string; status?: { result?: string; aligned?: unknown } }[] };
  dmarc?: { domain?: string; policy?: string; status?: { result?: string; header?: { from?: string } } } | false;
  arc?: { status?: { result?: string } } | false;
  headers: string;
}

function digest(res: MailauthResult, env: Envelope, trustedNetwork: boolean): SenderAuth {
  const spf = res.spf || undefined;
  const dmarc = res.dmarc || undefined;
  const arc = res.arc || undefined;
  const fromAddress = res.dkim?.headerFrom?.[0];
  return {
    spf: { result: spf?.status?.result ?? 'none', ...(spf?.domain ? { domain: spf.domain.toLowerCase() } : {}) },
    // mailauth reports an unsigned message as one result without a signing domain: that is "no DKIM"
    dkim: (res.dkim?.results ?? [])
      .filter((r) => r.signingDomain)
      .slice(0, 10)
      .map((r) => ({ domain: (r.signingDomain ?? '').toLowerCase(), result: r.status?.result ?? 'none', aligned: Boolean(r.status?.aligned) })),
    dmarc: {
      result: dmarc?.status?.result ?? 'none',
      ...(dmarc?.domain ? { domain: dmarc.domain.toLowerCase() } : {}),
      ...(dmarc?.policy ? { policy: dmarc.policy } : {}),
    },
    arc: { result: arc?.status?.result ?? 'none' },
    ...(fromAddress ? { headerFromDomain: fromAddress.slice(fromAddress.lastIndexOf('@') + 1).toLowerCase() } : {}),
    clientAddress: env.clientAddress,
    ...(env.heloName ? { heloName: env.heloName } : {}),
    trustedNetwork,
    header: authResultsHeader(res.headers),
  };
}

/** mailauth returns Received-SPF and Authentication-Results; the latter is the one recorded. */
function authResultsHeader(headers: string): string {
  const at = headers.indexOf('Authentication-Results:');
  if (at < 0) return '';
  const rest = headers.slice(at);
  const end = rest.search(/\r\n(?![ \t])/);
  return end < 0 ? rest.trimEnd() : rest.slice(0, end);
}

function budgeted(resolver: DnsResolver, max: number): DnsResolver {
  let used = 0;
  return (name, rrtype) => {
    if (++used > max) return Promise.reject(Object.assign(new Error(`DNS query budget of ${max} per message spent`), { code: 'ENOTFOUND' }));
    return resolver(name, rrtype);
  };
}

/** CASEDROP_AUTH_TRUSTED_NETWORKS as a matcher; IPv4-mapped IPv6 addresses match their IPv4 range. */
export class TrustedNetworks {
  private readonly list = new BlockList();

  constructor(ranges: readonly string[]) {
    for (const range of ranges) {
      const [address = '', bits] = range.split('/');
      const family = isIP(address) === 6 ? 'ipv6' : 'ipv4';
      if (isIP(address) === 0) throw new Error(`not an IP address: ${range}`);
      if (bits === undefined) this.list.addAddress(address, family);
      else this.list.addSubnet(address, Number(bits), family);
    }
  }

  has(address: string): boolean {
    const plain = address.replace(/^::ffff:(?=\d+\.\d+\.\d+\.\d+$)/i, '');
    const family = isIP(plain);
    if (family === 0) return false;
    return this.list.check(plain, family === 6 ? 'ipv6' : 'ipv4');
  }
}
