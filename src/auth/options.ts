import type { Config } from '../config/schema.js';
import { TrustedNetworks, type CheckOptions } from './check.js';
import { dnsResolver } from './resolver.js';

/**
 * Where the sender checks run, decided by cost. DKIM needs every byte of the message, hashed with
 * its canonicalization, and DMARC/ARC/SPF need DNS answers (up to a few round trips).
 *
 * - `record` (the default): the intake worker checks the message from the spool, streaming it
 *   through mailauth before it parses it. The SMTP door stays as cheap as it is (no DNS wait between
 *   the final dot and the 250, no second hash of every byte in the process that holds connections),
 *   and a slow resolver delays a worker job instead of every sender's reply.
 * - `require`: the verdict must exist before the reply to DATA, so the door feeds the message to
 *   mailauth while it streams into the spool (the same pass, no re-read) and waits for DNS at the
 *   final dot. The worker checks again for the record (the spool meta is sealed before the final
 *   dot, so the door's verdict cannot ride along): `require` pays for the DNS look-ups twice.
 */
export function senderCheckOptions(config: Pick<Config, 'dnsServers' | 'dnsTimeoutMs' | 'hostname' | 'authTrustedNetworks'>): CheckOptions {
  return {
    resolver: dnsResolver({ servers: config.dnsServers, timeoutMs: config.dnsTimeoutMs }),
    hostname: config.hostname,
    trusted: new TrustedNetworks(config.authTrustedNetworks),
  };
}
