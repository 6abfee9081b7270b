import { execFile } from 'node:child_process';
import { EventEmitter } from 'node:events';
import { readFileSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { Writable } from 'node:stream';
import { promisify } from 'node:util';
import { Queue } from 'bullmq';
import type { Redis } from 'ioredis';
import nodemailer from 'nodemailer';
import { caseRegistry, type DurableCaseRegistry } from '../../src/cases/registry.js';
import type { Config } from '../../src/config/schema.js';
import { QueueName } from '../../src/jobs/types.js';
import { createLogger } from '../../src/log.js';
import { createRedis, ready } from '../../src/redis.js';
import { startSmtp, type SmtpDoor } from '../../src/smtp/index.js';
import { openStore } from '../../src/store/open.js';
import type { ObjectStore } from '../../src/store/types.js';
import { testConfig } from '../helpers/env.js';

/**
 * A real SMTP door for one test file: its own data dir, Redis prefix and port, cases set up as
 * fixtures/messages/manifest.json expects, and ways to look at what it left behind (spool
 * objects, intake jobs, log lines).
 */
const execFileP = promisify(execFile);
export const repoRoot = fileURLToPath(new URL('../..', import.meta.url));
export const messagesDir = join(repoRoot, 'fixtures/messages');

export interface ManifestItem {
  file: string;
  mailFrom: string;
  rcptTo: string;
  smtputf8: boolean;
  eightbit: boolean;
  expect: string;
  note: string;
}
export const manifest = JSON.parse(readFileSync(join(messagesDir, 'manifest.json'), 'utf8')) as {
  cases: { open: string; closed: string; absent: string };
  intake: string;
  items: ManifestItem[];
};
export const item = (file: string): ManifestItem => manifest.items.find((i) => i.file === file)!;
export const message = (file: string): Buffer => readFileSync(join(messagesDir, file));

export interface TestDoor {
  config: Config;
  port: number;
  store: ObjectStore;
  redis: Redis;
  registry: DurableCaseRegistry;
  queue: Queue;
  door: SmtpDoor;
  logs: Record<string, unknown>[];
  /** resolves with the n-th log line (already written or still to come) with this `event` */
  logEvent(event: string, n?: number): Promise<Record<string, unknown>>;
  spoolIds(): Promise<string[]>;
  /** the store's temp files: a put that failed or was cut leaves none */
  tempFiles(): string[];
  jobIds(): Promise<string[]>;
  close(): Promise<void>;
}

export interface DoorOptions {
  env?: Record<string, string>;
  /** wraps the real store, for fault injection */
  wrapStore?: (store: ObjectStore) => ObjectStore;
}

export async function startDoor(options: DoorOptions = {}): Promise<TestDoor> {
  const { config, cleanup } = testConfig({ CASEDROP_SMTP_EARLY_TALKER_DELAY_MS: '0', CASEDROP_LOG_LEVEL: 'debug', ...options.env });
  const logs: Record<string, unknown>[] = [];
  const logged = new EventEmitter();
  const logger = createLogger(
    'debug',
    new Writable({
      write(chunk: Buffer, _enc, cb) {
        const line = JSON.parse(chunk.toString()) as Record<string, unknown>;
        logs.push(line);
        logged.emit('line', line);
        cb();
      },
    }),
  );
  const logEvent = (event: string, n = 1) =>
    new Promise<Record<string, unknown>>((resolve) => {
      const seen = logs.filter((l) => l.event === event);
      if (seen.length >= n) return resolve(seen[n - 1]!);
      let count = seen.length;
      const on = (l: Record<string, unknown>) => {
        if (l.event !== event || ++count < n) return;
        logged.off('line', on);
        resolve(l);
      };
      logged.on('line', on);
    });
  const realStore = await openStore(config, logger);
  const store = options.wrapStore ? options.wrapStore(realStore) : realStore;
  const redis = createRedis(config, 'producer');
  await ready(redis);
  const registry = caseRegistry(realStore, redis, config, logger);
  await registry.open(manifest.cases.open, 'eng@example.com');
  await registry.open(manifest.cases.closed, 'eng@example.com');
  await registry.close(manifest.cases.closed);
  const door = await startSmtp({ config, logger, store, registry, redis });
  const queue = new Queue(QueueName.intake, { connection: { url: config.redisUrl } as never, prefix: config.redisPrefix });
  // the outage tests stop Redis: this handle's reconnect errors are expected there
  queue.on('error', () => undefined);
  return {
    config,
    port: door.port,
    store,
    redis,
    registry,
    queue,
    door,
    logs,
    logEvent,
    spoolIds: async () => (await realStore.list('spool/')).map((id) => id.slice('spool/'.length)),
    tempFiles: () => readdirSync(join(config.dataDir, 'objects/.tmp')),
    jobIds: async () => (await queue.getJobs(['waiting', 'active', 'delayed', 'completed', 'failed', 'prioritized'])).map((j) => j.id!),
    close: async () => {
      await door.stop();
      await queue.close();
      redis.disconnect();
      await cleanup();
    },
  };
}

/** The id in `250 2.0.0 queued as <id>`. */
export function queuedId(reply: string): string | undefined {
  return /queued as ([0-9A-Z]+)/.exec(reply)?.[1];
}

export interface Sent {
  code: number;
  text: string;
}

/** One message through nodemailer's SMTP transport (pipelining, SIZE, 8BITMIME as it negotiates them). */
export async function sendWithNodemailer(
  port: number,
  raw: Buffer,
  envelope: { from: string; to: string | string[] },
  extra: Record<string, unknown> = {},
): Promise<Sent> {
  const transport = nodemailer.createTransport({ host: '127.0.0.1', port, secure: false, ignoreTLS: true, ...extra } as never);
  try {
    const info = await transport.sendMail({ envelope, raw });
    return { code: Number(info.response.slice(0, 3)), text: info.response };
  } catch (err) {
    const e = err as { responseCode?: number; response?: string; message: string };
    return { code: e.responseCode ?? 0, text: e.response ?? e.message };
  } finally {
    transport.close();
  }
}

/** swaks: its transcript (server lines start with `<-`, or `<**` for errors) and exit code. */
export async function sendWithSwaks(port: number, args: string[]): Promise<{ transcript: string; exitCode: number }> {
  return execFileP('swaks', ['--server', `127.0.0.1:${port}`, '--hide-informational', ...args], { timeout: 60_000 }).then(
    (out) => ({ transcript: out.stdout + out.stderr, exitCode: 0 }),
    (err: { stdout?: string; stderr?: string; code?: number }) => ({ transcript: `${err.stdout ?? ''}${err.stderr ?? ''}`, exitCode: err.code ?? 1 }),
  );
}

/** Python's smtplib; returns the reply to the message (or the refusal) as {code, text}. */
export async function sendWithSmtplib(port: number, file: string, from: string, to: string, mailOptions: string[] = []): Promise<Sent> {
  const script = `
import json, smtplib, sys
host, port, path, sender, rcpt = sys.argv[1:6]
opts = sys.argv[6:]
data = open(path, 'rb').read()
s = smtplib.SMTP(host, int(port), local_hostname='python.test', timeout=30)
try:
    s.ehlo('python.test')
    code, msg = s.mail(sender, opts)
    if code != 250: raise smtplib.SMTPSenderRefused(code, msg, sender)
    code, msg = s.rcpt(rcpt)
    if code not in (250, 251): raise smtplib.SMTPRecipientsRefused({rcpt: (code, msg)})
    code, msg = s.data(data)
    print(json.dumps({'code': code, 'text': msg.decode('utf-8', 'replace')}))
except smtplib.SMTPResponseException as e:
    print(json.dumps({'code': e.smtp_code, 'text': e.smtp_error.decode('utf-8', 'replace')}))
except smtplib.SMTPRecipientsRefused as e:
    code, msg = list(e.recipients.values())[0]
    print(json.dumps({'code': code, 'text': msg.decode('utf-8', 'replace')}))
finally:
    try: s.quit()
    except Exception: pass
`;
  const { stdout } = await execFileP('python3', ['-c', script, '127.0.0.1', String(port), file, from, to, ...mailOptions], { timeout: 60_000 });
  return JSON.parse(stdout.trim()) as Sent;
}
