import { execFileSync, spawnSync } from 'node:child_process';
import { chmodSync, chownSync, existsSync, mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { freePort, sleep, waitForPort } from '../../bench/lib/procs.mjs';

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

// chroot off: a chroot needs copies of /etc files that Debian's init script would make
function masterCf(port: number): string {
  const rows = [
    [`127.0.0.1:${port}`, 'inet', 'n', '-', 'n', '-', '-', 'smtpd'],
    ['pickup', 'unix', 'n', '-', 'n', '60', '1', 'pickup'],
    ['cleanup', 'unix', 'n', '-', 'n', '-', '0', 'cleanup'],
    ['qmgr', 'unix', 'n', '-', 'n', '300', '1', 'qmgr'],
    ['rewrite', 'unix', '-', '-', 'n', '-', '-', 'trivial-rewrite'],
    ['bounce', 'unix', '-', '-', 'n', '-', '0', 'bounce'],
    ['defer', 'unix', '-', '-', 'n', '-', '0', 'bounce'],
    ['trace', 'unix', '-', '-', 'n', '-', '0', 'bounce'],
    ['verify', 'unix', '-', '-', 'n', '-', '1', 'verify'],
    ['flush', 'unix', 'n', '-', 'n', '1000?', '0', 'flush'],
    ['proxymap', 'unix', '-', '-', 'n', '-', '-', 'proxymap'],
    ['proxywrite', 'unix', '-', '-', 'n', '-', '1', 'proxymap'],
    ['smtp', 'unix', '-', '-', 'n', '-', '-', 'smtp'],
    ['relay', 'unix', '-', '-', 'n', '-', '-', 'smtp'],
    ['showq', 'unix', 'n', '-', 'n', '-', '-', 'showq'],
    ['error', 'unix', '-', '-', 'n', '-', '-', 'error'],
    ['retry', 'unix', '-', '-', 'n', '-', '-', 'error'],
    ['discard', 'unix', '-', '-', 'n', '-', '-', 'discard'],
    ['local', 'unix', '-', 'n', 'n', '-', '-', 'local'],
    ['anvil', 'unix', '-', '-', 'n', '-', '1', 'anvil'],
    ['scache', 'unix', '-', '-', 'n', '-', '1', 'scache'],
    ['postlog', 'unix-dgram', 'n', '-', 'n', '-', '1', 'postlogd'],
  ];
  return `${rows.map((r) => r.join('\t')).join('\n')}\n`;
}

/** postfix(1) reports only to syslog unless stderr is a terminal; `script` gives it one so failures show. */
function postfix(confDir: string, verb: string): { ok: boolean; output: string } {
  const r = spawnSync('script', ['-qec', `postfix -c ${confDir} ${verb}`, '/dev/null'], { encoding: 'utf8' });
  return { ok: r.status === 0, output: `${r.stdout ?? ''}${r.stderr ?? ''}`.trim() };
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
  const started = postfix(confDir, 'start');
  if (!started.ok) throw new Error(`postfix start failed: ${started.output}\n${log()}`);
  await waitForPort(port, { timeoutMs: 20_000 });
  const pidFile = join(dir, 'queue/pid/master.pid');
  const masterPid = Number(readFileSync(pidFile, 'utf8').trim());
  return {
    port,
    log,
    stop: async () => {
      postfix(confDir, 'stop');
      for (let i = 0; i < 100 && alive(masterPid); i++) await sleep(100);
      if (alive(masterPid)) postfix(confDir, 'abort');
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

function alive(pid: number): boolean {
  try {
    const state = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1]?.[0];
    return state !== undefined && state !== 'Z';
  } catch {
    return false;
  }
}
