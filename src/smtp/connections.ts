/**
 * Concurrent sessions in total and per client address. Pure bookkeeping: the session handler asks
 * `admit` in onConnect and calls `release` from onClose; only admitted sessions are released, so a
 * refused connection never drives a count below zero.
 */
export type Admission = 'ok' | 'total' | 'perIp' | 'perNet';

/** The client's network: IPv4 /24, IPv6 /48 (what one customer or one attacker usually holds). */
export function networkOf(address: string): string {
  const v4 = address.startsWith('::ffff:') ? address.slice(7) : address;
  if (/^\d+\.\d+\.\d+\.\d+$/.test(v4)) return `${v4.slice(0, v4.lastIndexOf('.'))}.0/24`;
  const groups = address.split(':');
  return `${groups.slice(0, 3).join(':')}::/48`;
}

export class ConnectionCounter {
  private readonly byIp = new Map<string, number>();
  private readonly byNet = new Map<string, number>();
  private readonly admitted = new Map<string, string>();

  constructor(
    private readonly maxTotal: number,
    private readonly maxPerIp: number,
    private readonly maxPerNet: number = Number.POSITIVE_INFINITY,
  ) {}

  get size(): number {
    return this.admitted.size;
  }

  admit(sessionId: string, address: string): Admission {
    if (this.admitted.size >= this.maxTotal) return 'total';
    const n = this.byIp.get(address) ?? 0;
    if (n >= this.maxPerIp) return 'perIp';
    const net = networkOf(address);
    const m = this.byNet.get(net) ?? 0;
    if (m >= this.maxPerNet) return 'perNet';
    this.byIp.set(address, n + 1);
    this.byNet.set(net, m + 1);
    this.admitted.set(sessionId, address);
    return 'ok';
  }

  release(sessionId: string): void {
    const address = this.admitted.get(sessionId);
    if (address === undefined) return;
    this.admitted.delete(sessionId);
    decrement(this.byIp, address);
    decrement(this.byNet, networkOf(address));
  }
}

function decrement(counts: Map<string, number>, key: string): void {
  const n = (counts.get(key) ?? 1) - 1;
  if (n <= 0) counts.delete(key);
  else counts.set(key, n);
}
