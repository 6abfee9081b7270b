import { vi } from 'vitest';
import { spawn, type ChildProcess } from 'node:child_process';
import { createSocket, type Socket } from 'node:dgram';
import { Resolver } from 'node:dns/promises';

/**
 * A real DNS server on loopback for the sender-check tests: Debian's dnsmasq, authoritative for
 * `.test` (unknown names there are NXDOMAIN, as on the internet), serving the TXT records a test
 * gives it (SPF, DKIM keys, DMARC). Plus a "black hole" that reads queries and never answers, the
 * DNS timeout a real outage looks like.
 */
export interface DnsServer {
  /** `127.0.0.1:<port>`, for CASEDROP_DNS_SERVERS */
  address: string;
  stop(): Promise<void>;
}

export type TxtRecords = Record<string, string | string[]>;

/** A TXT value split into RFC 1035 character-strings of at most 255 octets (DKIM keys are longer). */
function strings(value: string | string[]): string[] {
  if ([value].flat().some((v) => v.includes(','))) throw new Error('a TXT value with a comma cannot be given to dnsmasq on its command line');
  if (Array.isArray(value)) return value;
  const out: string[] = [];
  for (let i = 0; i < value.length; i += 250) out.push(value.slice(i, i + 250));
  return out.length ? out : [''];
}

async function freeUdpPort(): Promise<number> {
  const s = createSocket('udp4');
  await new Promise<void>((resolve) => s.bind(0, '127.0.0.1', resolve));
  const port = s.address().port;
  await new Promise<void>((resolve) => s.close(() => resolve()));
  return port;
}

/** A free UDP port may still be taken for TCP (dnsmasq binds both) or by a racing process: try a few. */
export async function startDnsmasq(txt: TxtRecords): Promise<DnsServer> {
  for (let attempt = 1; ; attempt++) {
    try {
      return await startDnsmasqOnce(txt, await freeUdpPort());
    } catch (err) {
      if (attempt >= 5 || !/Address already in use/.test((err as Error).message)) throw err;
    }
  }
}

async function startDnsmasqOnce(txt: TxtRecords, port: number): Promise<DnsServer> {
  const args = [
    '--keep-in-foreground',
    '--conf-file=/dev/null',
    '--no-resolv',
    '--no-hosts',
    '--no-poll',
    '--pid-file=',
    '--bind-interfaces',
    '--listen-address=127.0.0.1',
    `--port=${port}`,
    '--user=root',
    '--local=/test/',
    // on its command line dnsmasq splits a TXT record's character-strings at commas, quotes kept literally
    ...Object.entries(txt).map(([name, value]) => `--txt-record=${name},${strings(value).join(',')}`),
  ];
  const child: ChildProcess = spawn('dnsmasq', args, { stdio: ['ignore', 'ignore', 'pipe'] });
  let stderr = '';
  child.stderr?.on('data', (c: Buffer) => (stderr += c.toString()));
  const address = `127.0.0.1:${port}`;
  const probe = new Resolver({ timeout: 200, tries: 1 });
  probe.setServers([address]);
  // ready once it answers (NXDOMAIN for a name it does not hold is an answer); the bound catches a
  // dnsmasq that never comes up, not a slow start on a loaded machine
  await vi
    .waitFor(
      async () => {
        // exited (a port taken, say): no use waiting, reported below
        if (child.exitCode !== null) return;
        const answered = await probe.resolveTxt('ready.probe.test').then(
          () => true,
          (e: NodeJS.ErrnoException) => e.code === 'ENOTFOUND' || e.code === 'ENODATA',
        );
        if (!answered) throw new Error('dnsmasq did not answer yet');
      },
      { timeout: 120_000, interval: 50 },
    )
    .catch((err: Error) => {
      child.kill('SIGKILL');
      throw new Error(`dnsmasq did not answer: ${err.message} ${stderr}`);
    });
  if (child.exitCode !== null) throw new Error(`dnsmasq exited: ${stderr}`);
  return {
    address,
    stop: () =>
      new Promise<void>((resolve) => {
        if (child.exitCode !== null) return resolve();
        child.once('exit', () => resolve());
        child.kill('SIGTERM');
      }),
  };
}

/** A UDP "server" on loopback that takes every query and answers none. */
export async function startBlackHole(): Promise<DnsServer & { queries: number }> {
  const socket: Socket = createSocket('udp4');
  const hole = { address: '', queries: 0, stop: () => new Promise<void>((resolve) => socket.close(() => resolve())) };
  socket.on('message', () => hole.queries++);
  await new Promise<void>((resolve) => socket.bind(0, '127.0.0.1', resolve));
  hole.address = `127.0.0.1:${socket.address().port}`;
  return hole;
}
