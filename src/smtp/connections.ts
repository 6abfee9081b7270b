/**
 * Concurrent sessions in total and per client address. Pure bookkeeping: the session handler asks
 * `admit` in onConnect and calls `release` from onClose; only admitted sessions are released, so a
 * refused connection never drives a count below zero.
 */
export type Admission = 'ok' | 'total' | 'perIp';

export class ConnectionCounter {
  private readonly byIp = new Map<string, number>();
  private readonly admitted = new Map<string, string>();

  constructor(
    private readonly maxTotal: number,
    private readonly maxPerIp: number,
  ) {}

  get size(): number {
    return this.admitted.size;
  }

  admit(sessionId: string, address: string): Admission {
    if (this.admitted.size >= this.maxTotal) return 'total';
    const n = this.byIp.get(address) ?? 0;
    if (n >= this.maxPerIp) return 'perIp';
    this.byIp.set(address, n + 1);
    this.admitted.set(sessionId, address);
    return 'ok';
  }

  release(sessionId: string): void {
    const address = this.admitted.get(sessionId);
    if (address === undefined) return;
    this.admitted.delete(sessionId);
    const n = (this.byIp.get(address) ?? 1) - 1;
    if (n <= 0) this.byIp.delete(address);
    else this.byIp.set(address, n);
  }
}
