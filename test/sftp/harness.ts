import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { AuthPort, DriveLogin, UploadSink } from '../../src/drive/ports.js';
import { storeUploadSink } from '../../src/drive/store-sink.js';
import { createLogger } from '../../src/log.js';
import { loadHostKeys } from '../../src/sftp/host-keys.js';
import { startSshDrive, type SshDrive } from '../../src/sftp/server.js';
import { openStore } from '../../src/store/open.js';
import type { ObjectStore } from '../../src/store/types.js';
import { testConfig } from '../helpers/env.js';

export const CASE = '612345678';
export const TOKEN = 'cdu_test-token-for-the-ssh-door';

/** One case, one token: the contract of the auth port, without the token store behind it. */
export function oneTokenAuth(): AuthPort & { attempts: number } {
  const port = {
    attempts: 0,
    async login(caseNumber: string, password: string, _channel: string, clientAddress: string) {
      port.attempts++;
      if (caseNumber !== CASE || password !== TOKEN) return { ok: false as const, why: 'invalid' as const };
      const login: DriveLogin = { caseNumber, token: { id: 'tok1', label: 'test' }, clientAddress };
      return { ok: true as const, login };
    },
  };
  return port;
}

export interface Harness {
  drive: SshDrive;
  store: ObjectStore;
  sink: UploadSink;
  dir: string;
  close(): Promise<void>;
}

export async function startHarness(opts: { legacy?: boolean; auth?: AuthPort } = {}): Promise<Harness> {
  const { config, cleanup } = testConfig();
  const logger = createLogger(process.env.SFTP_DEBUG ? 'debug' : 'silent');
  const store = await openStore(config, logger);
  const sink = storeUploadSink(store, logger);
  const hostKeys = await loadHostKeys(join(config.dataDir, 'ssh'), logger);
  const drive = await startSshDrive({ host: '127.0.0.1', port: 0, hostKeys, banner: 'casedrop test drive\n', legacyAlgorithms: opts.legacy ?? false, maxConnections: 20, auth: opts.auth ?? oneTokenAuth(), sink, logger });
  const dir = mkdtempSync(join(tmpdir(), 'casedrop-sftp-client-'));
  return {
    drive,
    store,
    sink,
    dir,
    async close() {
      await drive.stop(1000);
      rmSync(dir, { recursive: true, force: true });
      await cleanup();
    },
  };
}

export const SSH_OPTS = ['-o', 'StrictHostKeyChecking=no', '-o', 'UserKnownHostsFile=/dev/null', '-o', 'BatchMode=no', '-o', 'PubkeyAuthentication=no', '-o', 'PreferredAuthentications=password,keyboard-interactive'];

export interface Run {
  code: number | null;
  stdout: string;
  stderr: string;
}

/** A real OpenSSH client (sftp, scp), with the token given through sshpass as a device would type it. */
export function run(cmd: string, args: string[], opts: { password?: string; input?: string; cwd?: string; onSpawn?: (pid: number) => void } = {}): Promise<Run> {
  return new Promise((resolve, reject) => {
    const child = spawn('sshpass', ['-e', cmd, ...args], { env: { ...process.env, SSHPASS: opts.password ?? TOKEN }, cwd: opts.cwd, stdio: ['pipe', 'pipe', 'pipe'] });
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

export function sftpBatch(h: Harness, batch: string, opts: { password?: string; user?: string } = {}): Promise<Run> {
  return run('sftp', [...SSH_OPTS, '-P', String(h.drive.port), '-b', '-', `${opts.user ?? CASE}@127.0.0.1`], { password: opts.password, input: batch, cwd: h.dir });
}

export function scp(h: Harness, args: string[], opts: { password?: string } = {}): Promise<Run> {
  return run('scp', [...SSH_OPTS, '-P', String(h.drive.port), ...args], { password: opts.password, cwd: h.dir });
}

/** An ssh2 client's SFTP session, for what OpenSSH's sftp never does (out-of-order writes, WinSCP's rename). */
export async function ssh2Sftp(h: Harness, password = TOKEN) {
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
