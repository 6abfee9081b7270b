import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Redis } from 'ioredis';
import { caseRegistry, type DurableCaseRegistry } from '../../src/cases/registry.js';
import { RedisTokenStore } from '../../src/cases/tokens.js';
import type { Config } from '../../src/config/schema.js';
import { fileView } from '../../src/intake/records.js';
import { caseFilesNamespace } from '../../src/jobs/ids.js';
import { createLogger } from '../../src/log.js';
import { createRedis, ready } from '../../src/redis.js';
import { startSftp } from '../../src/sftp/index.js';
import type { SshDrive } from '../../src/sftp/server.js';
import { openStore } from '../../src/store/open.js';
import type { EncryptedStore } from '../../src/store/store.js';
import { testConfig } from '../helpers/env.js';

export const CASE = '612345678';

export interface Harness {
  config: Config;
  drive: SshDrive;
  store: EncryptedStore;
  redis: Redis;
  registry: DurableCaseRegistry;
  tokens: RedisTokenStore;
  /** a token of CASE allowed on every channel */
  token: string;
  /** where the client runs and finds its local files */
  dir: string;
  logLines: string[];
  restart(): Promise<void>;
  close(): Promise<void>;
}

/**
 * The SFTP/SCP door in-process on a free loopback port, wired as `serve` wires it (upload tokens
 * in Redis, login limits, the one intake path, the encrypted store), with one open case and a token.
 */
export async function startHarness(overrides: Record<string, string> = {}): Promise<Harness> {
  const { config, cleanup } = testConfig({ CASEDROP_SFTP_PORT: '0', ...overrides });
  const logLines: string[] = [];
  const logger = createLogger(process.env.SFTP_DEBUG ? 'debug' : 'info', { write: (l: string) => void logLines.push(l) } as unknown as NodeJS.WritableStream);
  const redis = createRedis(config, 'producer');
  await ready(redis);
  const store = await openStore(config, logger);
  const registry = caseRegistry(store, redis, config, logger);
  const tokens = new RedisTokenStore(redis, config.redisPrefix, registry, config.caseDigits);
  await registry.open(CASE, 'eng@example.com');
  const { secret } = await tokens.create(CASE, { label: 'router-1', expiresInSeconds: 3600 });
  const dir = mkdtempSync(join(tmpdir(), 'casedrop-sftp-client-'));
  const h: Harness = {
    config,
    store,
    redis,
    registry,
    tokens,
    token: secret,
    dir,
    logLines,
    drive: await startSftp({ config, logger, store, registry, redis }),
    async restart() {
      await h.drive.stop(0);
      h.drive = await startSftp({ config: { ...config, sftpPort: h.drive.port }, logger, store, registry, redis });
    },
    async close() {
      await h.drive.stop(1000);
      redis.disconnect();
      rmSync(dir, { recursive: true, force: true });
      await cleanup();
    },
  };
  return h;
}

/** The case's files as the engineer's list shows them (stored name, channel, token label, verdict). */
export async function caseFiles(h: Harness): Promise<Array<Record<string, unknown> & { sha256: string; size: number }>> {
  const ids = await h.store.list(`${caseFilesNamespace(CASE)}/`);
  return Promise.all(
    ids.map(async (id) => {
      const info = await h.store.head(id);
      // an upload's case file is a manifest of its parts, carrying the whole file's size and SHA-256
      const view = await fileView(h.store, info);
      return { ...view, sha256: String(view.sha256 ?? info.sha256), size: Number(view.size ?? info.size) };
    }),
  );
}

export const SSH_OPTS = [
  '-o',
  'StrictHostKeyChecking=no',
  '-o',
  'UserKnownHostsFile=/dev/null',
  '-o',
  'BatchMode=no',
  '-o',
  'PubkeyAuthentication=no',
  '-o',
  'PreferredAuthentications=password,keyboard-interactive',
];

export interface Run {
  code: number | null;
  stdout: string;
  stderr: string;
}

/** A real OpenSSH client (sftp, scp), with the token given through sshpass as a device would type it. */
export function run(
  cmd: string,
  args: string[],
  opts: { password?: string; input?: string; cwd?: string; onSpawn?: (pid: number) => void } = {},
): Promise<Run> {
  return new Promise((resolve, reject) => {
    // its own process group, so a test can kill sshpass, the client and its ssh at once (a dropped link)
    const child = spawn('sshpass', ['-e', cmd, ...args], {
      env: { ...process.env, SSHPASS: opts.password ?? '' },
      cwd: opts.cwd,
      stdio: ['pipe', 'pipe', 'pipe'],
      detached: true,
    });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    child.on('error', reject);
    child.on('close', (code) => resolve({ code, stdout, stderr }));
    if (child.pid && opts.onSpawn) opts.onSpawn(child.pid);
    child.stdin.end(opts.input ?? '');
  });
}

export function sftpBatch(
  h: Harness,
  batch: string,
  opts: { password?: string; user?: string; args?: string[]; onSpawn?: (pid: number) => void } = {},
): Promise<Run> {
  return run('sftp', [...SSH_OPTS, ...(opts.args ?? []), '-P', String(h.drive.port), '-b', '-', `${opts.user ?? CASE}@127.0.0.1`], {
    password: opts.password ?? h.token,
    input: batch,
    cwd: h.dir,
    onSpawn: opts.onSpawn,
  });
}

export function scp(h: Harness, args: string[], opts: { password?: string } = {}): Promise<Run> {
  return run('scp', [...SSH_OPTS, '-P', String(h.drive.port), ...args], { password: opts.password ?? h.token, cwd: h.dir });
}

/** An ssh2 client's SFTP session, for what OpenSSH's sftp never does (out-of-order writes, WinSCP's rename). */
export async function ssh2Sftp(h: Harness, password = h.token) {
  const { Client } = (await import('ssh2')).default;
  const client = new Client();
  await new Promise<void>((resolve, reject) => {
    client.once('ready', resolve).once('error', reject);
    client.connect({ host: '127.0.0.1', port: h.drive.port, username: CASE, password });
  });
  const sftp = await new Promise<import('ssh2').SFTPWrapper>((resolve, reject) => client.sftp((err, s) => (err ? reject(err) : resolve(s))));
  const call = <T>(fn: (cb: (err: Error | null | undefined, v: T) => void) => void) =>
    new Promise<T>((resolve, reject) => fn((err, v) => (err ? reject(err) : resolve(v))));
  return { client, sftp, call, end: () => client.end() };
}
