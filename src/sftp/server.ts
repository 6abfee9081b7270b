import type { AddressInfo, Socket } from 'node:net';
import ssh2, { type AuthContext, type AuthenticationType, type Connection, type PublicKeyAuthContext } from 'ssh2';
import type { KeyOffer } from '../cases/ssh-key-rules.js';
import { sshPacketBuffers, uploadBuffers } from '../drive/buffer-pool.js';
import type { AuthPort, DriveLogin, KeyAuthPort, UploadSink } from '../drive/ports.js';
import type { Logger } from '../log.js';
import { sshAlgorithms } from './algorithms.js';
import { serveJail } from './jail.js';
import { runScpSink } from './scp.js';
import { parseExec } from './scp-command.js';
import { assembleSftpPacketsIn } from './sftp-packets.js';
import { decipherIntoPool } from './ssh-packets.js';

export interface SshDriveOptions {
  host: string;
  port: number;
  hostKeys: Buffer[];
  banner: string;
  legacyAlgorithms: boolean;
  maxConnections: number;
  auth: AuthPort & KeyAuthPort;
  sink: UploadSink;
  logger: Logger;
}

export interface SshDrive {
  port: number;
  stop(graceMs: number): Promise<void>;
}

const NO_SHELL = "This is casedrop's upload drive: no shell and no commands. Upload with sftp or scp.\r\n";

/**
 * The SSH door of the upload drive: login with the case number and an upload token as password
 * (or keyboard-interactive), or with an SSH key registered for the case, then SFTP into the upload-only jail or legacy SCP's sink. No
 * shell, no other command, no port forwarding.
 */
export async function startSshDrive(opts: SshDriveOptions): Promise<SshDrive> {
  const clients = new Set<Connection>();
  assembleSftpPacketsIn(uploadBuffers, sshPacketBuffers);
  decipherIntoPool(sshPacketBuffers);
  const server = new ssh2.Server(
    // keepalives find a dead link within a minute, so its upload's lock is freed for the resume
    {
      hostKeys: opts.hostKeys,
      banner: opts.banner,
      ident: 'casedrop',
      algorithms: sshAlgorithms(opts.legacyAlgorithms),
      keepaliveInterval: 15_000,
      keepaliveCountMax: 4,
    },
    (client, info) => {
      clients.add(client);
      // small SFTP status replies must leave at once: Nagle would hold them and stall the client's window
      (client as Connection & { setNoDelay?: (on: boolean) => void }).setNoDelay?.(true);
      coalesceWrites((client as Connection & { _sock?: Socket })._sock);
      const log = opts.logger.child({ channel: 'sftp', client: info.ip });
      let login: DriveLogin | undefined;
      let keyRefusedFor: string | undefined;
      const outcome = { onLogin: (who: DriveLogin) => (login = who), onKeyRefused: (user: string) => (keyRefusedFor = user) };
      client.on('authentication', (ctx) => {
        authenticate(ctx, opts.auth, info.ip, log, outcome).catch((err: unknown) => {
          log.error({ err }, 'login check failed');
          ctx.reject(['password']);
        });
      });
      client.on('close', () => {
        if (login || keyRefusedFor === undefined) return;
        opts.auth.keysRefused(keyRefusedFor, info.ip).catch((err: unknown) => log.warn({ err }, 'counting a refused key failed'));
      });
      client.on('ready', () => {
        const who = login!;
        const session = log.child({ caseNumber: who.caseNumber, token: who.token.id });
        client.on('session', (accept) => {
          const channel = accept();
          channel.on('sftp', (accept, reject) => {
            // OpenSSH's scp speaks SFTP too: a token for either may use it
            if (who.channels.length === 0) return reject();
            serveJail(accept(), { login: who, sink: opts.sink, channel: who.channels.includes('sftp') ? 'sftp' : 'scp', logger: session });
          });
          channel.on('exec', (accept, _reject, info) => {
            const stream = accept();
            const req = parseExec(info.command);
            if (req.kind === 'sink' && !who.channels.includes('scp')) {
              stream.write('\x02casedrop: this upload token is not allowed for scp.\n');
              stream.exit(1);
              stream.end();
              return;
            }
            if (req.kind !== 'sink') {
              session.info({ command: req.kind }, 'exec refused');
              stream.stderr.write(
                req.kind === 'download' ? 'casedrop: This is an upload-only drive: files cannot be downloaded (scp -f).\n' : `casedrop: ${NO_SHELL}`,
              );
              if (req.kind === 'download') stream.write('\x02casedrop: This is an upload-only drive: files cannot be downloaded.\n');
              stream.exit(1);
              stream.end();
              return;
            }
            void runScpSink(stream, req, { login: who, sink: opts.sink, logger: session.child({ channel: 'scp' }) })
              .catch((err: unknown) => {
                session.warn({ err }, 'scp upload ended early');
                return 1;
              })
              .then((code) => {
                stream.exit(code);
                stream.end();
              });
          });
          channel.on('shell', (accept) => {
            const stream = accept();
            stream.stderr.write(NO_SHELL);
            stream.exit(1);
            stream.end();
          });
          channel.on('pty', (accept) => accept?.());
        });
      });
      client.on('request', (_accept, reject) => reject?.());
      client.on('tcpip', (_accept, reject) => reject());
      client.on('error', (err) => log.debug({ err }, 'ssh connection error'));
      client.on('close', () => clients.delete(client));
    },
  );
  server.maxConnections = opts.maxConnections;
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(opts.port, opts.host, () => resolve());
  });
  const port = (server.address() as AddressInfo).port;
  opts.logger.info({ host: opts.host, port, legacyAlgorithms: opts.legacyAlgorithms }, 'SFTP/SCP listening');
  return {
    port,
    async stop(graceMs) {
      const closed = new Promise<void>((resolve) => server.close(() => resolve()));
      // sessions in flight may finish; whatever is left is cut and kept as partial uploads
      const deadline = Date.now() + graceMs;
      while (clients.size > 0 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 100));
      for (const client of clients) client.end();
      await closed;
    },
  };
}

/**
 * Every SFTP WRITE gets its own status reply, each its own SSH packet: written one by one (no
 * Nagle) that was a send syscall per 32 KiB uploaded. Corked until the end of the event-loop turn,
 * the replies of one turn leave in one writev, as soon as before.
 */
function coalesceWrites(sock: Socket | undefined): void {
  if (!sock || typeof sock.cork !== 'function') return;
  const write = sock.write.bind(sock) as (...args: unknown[]) => boolean;
  let corked = false;
  const uncork = () => {
    corked = false;
    sock.uncork();
  };
  sock.write = ((...args: unknown[]) => {
    if (!corked) {
      corked = true;
      sock.cork();
      setImmediate(uncork);
    }
    return write(...args);
  }) as typeof sock.write;
}

interface AuthOutcome {
  onLogin(who: DriveLogin): void;
  onKeyRefused(user: string): void;
}

const methods: AuthenticationType[] = ['publickey', 'password', 'keyboard-interactive'];

async function authenticate(ctx: AuthContext, auth: AuthPort & KeyAuthPort, ip: string, log: Logger, outcome: AuthOutcome): Promise<void> {
  if (ctx.method === 'publickey') return keyLogin(ctx, auth, ip, log, outcome);
  let password: string | undefined;
  if (ctx.method === 'password') password = ctx.password;
  else if (ctx.method === 'keyboard-interactive') {
    password = await new Promise<string | undefined>((resolve) =>
      ctx.prompt([{ prompt: 'Password (upload token): ', echo: false }], (answers) => resolve(answers[0])),
    );
  }
  if (password === undefined) {
    ctx.reject(methods);
    return;
  }
  const result = await auth.login(ctx.username, password, ['sftp', 'scp'], ip);
  if (!result.ok) {
    log.info({ caseNumber: ctx.username.slice(0, 40), why: result.why }, 'ssh login refused');
    ctx.reject(methods, result.why === 'limited');
    return;
  }
  outcome.onLogin(result.login);
  ctx.accept();
}

/** ssh2's server pattern: an unsigned offer is answered "this key would do" (PK_OK); a signed one is verified. */
async function keyLogin(ctx: PublicKeyAuthContext, auth: KeyAuthPort, ip: string, log: Logger, outcome: AuthOutcome): Promise<void> {
  const { signature, blob, hashAlgo } = ctx;
  const offer: KeyOffer = {
    algo: ctx.key.algo,
    data: ctx.key.data,
    ...(signature && blob ? { signed: { blob, signature, ...(hashAlgo ? { hashAlgo } : {}) } } : {}),
  };
  const result = await auth.loginWithKey(ctx.username, offer, ip);
  if (!result.ok) {
    if (offer.signed || result.why === 'limited') log.info({ caseNumber: ctx.username.slice(0, 40), why: result.why }, 'ssh key login refused');
    else outcome.onKeyRefused(ctx.username);
    ctx.reject(methods);
    return;
  }
  if (offer.signed) {
    log.info({ caseNumber: result.login.caseNumber, key: result.login.token.id }, 'ssh key login');
    outcome.onLogin(result.login);
  }
  ctx.accept();
}
