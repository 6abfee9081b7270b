import { expect, vi } from 'vitest';
import { execFileSync } from 'node:child_process';
import { chmodSync, chownSync, existsSync, mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { alive, masterCf, postfixCommand } from '../../bench/lib/postfix.mjs';
import { freePort, waitForPort } from '../../bench/lib/procs.mjs';

/**
 * A private Postfix that relays everything for one domain to casedrop, as a customer's or a
 * company's outbound relay would: its own config, queue and log under a temp dir, smtpd on a free
 * loopback port, `relayhost = [127.0.0.1]:<casedrop>`. /etc/postfix and the system instance are
 * never touched. Needs root (Postfix starts its daemons as root and drops to `postfix`).
 */
export function postfixUnavailable(): string | undefined {
  if (!existsSync('/usr/sbin/postfix')) return 'postfix is not installed (apt-get install postfix, or npm test runs scripts/ensure-tools.sh)';
  if (process.getuid?.() !== 0) return 'Postfix can only be started as root';
  return undefined;
}

export interface RelayPostfix {
  port: number;
  log(): string;
  stop(): Promise<void>;
}

function mainCf(dir: string, domain: string, casedropPort: number): string {
  return `# a private relay for test/smtp/relay-postfix.test.ts
compatibility_level = 3.6
queue_directory = ${dir}/queue
data_directory = ${dir}/data
mail_owner = postfix
setgid_group = postdrop
inet_interfaces = loopback-only
inet_protocols = ipv4
myhostname = relay.postfix.test
mydomain = postfix.test
mydestination =
mynetworks = 127.0.0.0/8
relay_domains = ${domain}
relayhost = [127.0.0.1]:${casedropPort}
smtpd_relay_restrictions = permit_mynetworks, reject_unauth_destination
smtp_tls_security_level = none
smtpd_tls_security_level = none
alias_maps =
alias_database =
local_transport = error:no local delivery here
maillog_file = ${dir}/maillog
maillog_file_prefixes = ${dir}
biff = no
smtputf8_enable = no
`;
}

const idOf = (flag: '-u' | '-g', user: string) => Number(execFileSync('id', [flag, user], { encoding: 'utf8' }).trim());

export async function startRelay(dir: string, domain: string, casedropPort: number): Promise<RelayPostfix> {
  for (const sub of ['conf', 'queue', 'data']) mkdirSync(join(dir, sub), { recursive: true });
  chmodSync(dir, 0o755); // the daemons run as postfix and must traverse it
  chownSync(join(dir, 'data'), idOf('-u', 'postfix'), idOf('-g', 'postfix'));
  const port = await freePort();
  const confDir = join(dir, 'conf');
  writeFileSync(join(confDir, 'main.cf'), mainCf(dir, domain, casedropPort));
  writeFileSync(join(confDir, 'master.cf'), masterCf(port));
  const log = () => (existsSync(join(dir, 'maillog')) ? readFileSync(join(dir, 'maillog'), 'utf8') : '');
  const started = postfixCommand(confDir, 'start');
  if (!started.ok) throw new Error(`postfix start failed: ${started.output}\n${log()}`);
  await waitForPort(port, { timeoutMs: 20_000 });
  const pidFile = join(dir, 'queue/pid/master.pid');
  const masterPid = Number(readFileSync(pidFile, 'utf8').trim());
  return {
    port,
    log,
    stop: async () => {
      postfixCommand(confDir, 'stop');
      await vi
        .waitFor(() => expect(alive(masterPid), 'postfix master running').toBe(false), { timeout: 10_000, interval: 100 })
        .catch(() => postfixCommand(confDir, 'abort'));
      rmSync(dir, { recursive: true, force: true });
    },
  };
}
