import { createRequire } from 'node:module';
import type { AddressInfo, Socket } from 'node:net';
import { createSecureContext, TLSSocket, type SecureContextOptions } from 'node:tls';
import ftpSrv from 'ftp-srv';
import type { AuthPort, UploadSink } from '../drive/ports.js';
import type { Logger } from '../log.js';
import { UploadFileSystem } from './upload-fs.js';

export interface FtpsOptions {
  host: string;
  /** explicit FTPS (AUTH TLS on the control connection) */
  port: number;
  /** implicit FTPS (TLS from the first byte); none when undefined */
  implicitPort?: number;
  tls: { cert: Buffer; key: Buffer };
  passivePorts: { min: number; max: number };
  publicAddress?: string;
  greeting: string;
  auth: AuthPort;
  sink: UploadSink;
  logger: Logger;
}

export interface FtpsDoor {
  port: number;
  implicitPort?: number;
  stop(): Promise<void>;
}

const SIGNALS = ['SIGTERM', 'SIGINT', 'SIGQUIT'] as const;
const NOT_PLAIN = 'Plain FTP is not offered here: use explicit FTPS (AUTH TLS) or implicit FTPS.';

/**
 * ftp-srv answers USER and PASS before TLS if asked. Here no credential ever crosses in clear:
 * both are refused on a connection that has not negotiated TLS. ftp-srv has no option for it, so
 * its two command handlers are wrapped once (the module's own registry).
 */
function refusePlainLogins(): void {
  const registry = createRequire(import.meta.url)('ftp-srv/src/commands/registry') as Record<
    string,
    { handler: (this: { secure: boolean; reply(code: number, msg: string): unknown }, ...a: unknown[]) => unknown; wrapped?: boolean }
  >;
  for (const directive of ['USER', 'PASS']) {
    const command = registry[directive]!;
    if (command.wrapped) continue;
    const original = command.handler;
    command.handler = function (...args) {
      return this.secure ? original.apply(this, args) : this.reply(530, NOT_PLAIN);
    };
    command.wrapped = true;
  }
}

/**
 * ftp-srv's AUTH TLS answers 234 and wraps the socket in TLS only once the reply's write has
 * completed: a client's ClientHello that arrives in between is read as an FTP command and answered
 * in plain text, and the handshake fails (curl: "wrong version number"; most test runs on a loaded
 * machine hit it). Here the 234 is queued and the socket wrapped in the same tick, so no byte can
 * be read in between. The wrapping itself is ftp-srv's own code.
 */
function upgradeInOneTick(): void {
  type Conn = { secure: boolean; server: { options: { tls: SecureContextOptions | false } }; commandSocket: Socket; reply(code: number): Promise<unknown> };
  const registry = createRequire(import.meta.url)('ftp-srv/src/commands/registry') as Record<
    string,
    { handler: (this: Conn, arg: { command: { arg: string | null } }) => unknown; wrapped?: boolean }
  >;
  const auth = registry.AUTH!;
  if (auth.wrapped) return;
  const original = auth.handler;
  auth.handler = function (arg) {
    if (String(arg.command.arg ?? '').toUpperCase() !== 'TLS' || !this.server.options.tls || this.secure) return original.call(this, arg);
    const plain = this.commandSocket;
    plain.write('234 Honored\r\n');
    const secure = new TLSSocket(plain, { isServer: true, secureContext: createSecureContext(this.server.options.tls) });
    for (const event of ['data', 'timeout', 'end', 'close', 'drain', 'error']) secure.on(event, (...a: unknown[]) => plain.emit(event, ...a));
    this.commandSocket = secure as unknown as Socket;
    this.secure = true;
    return Promise.resolve();
  };
  auth.wrapped = true;
}

/**
 * The FTPS door (off by default): explicit and implicit TLS, data connections always over TLS
 * (PROT P; ftp-srv refuses PROT C on a secure connection), passive mode only, uploads only.
 */
export async function startFtps(opts: FtpsOptions): Promise<FtpsDoor> {
  refusePlainLogins();
  upgradeInOneTick();
  const servers = [
    { url: `ftp://${opts.host}:${opts.port}` },
    ...(opts.implicitPort !== undefined ? [{ url: `ftps://${opts.host}:${opts.implicitPort}` }] : []),
  ];
  const started: InstanceType<typeof ftpSrv.FtpSrv>[] = [];
  for (const { url } of servers) {
    const signalListeners = new Map(SIGNALS.map((sig) => [sig, process.listeners(sig)]));
    const server = new ftpSrv.FtpSrv({
      url,
      tls: { cert: opts.tls.cert, key: opts.tls.key, minVersion: 'TLSv1.2' },
      pasv_url: opts.publicAddress ?? opts.host,
      pasv_min: opts.passivePorts.min,
      pasv_max: opts.passivePorts.max,
      anonymous: false,
      greeting: opts.greeting,
      // active mode (PORT/EPRT) would make casedrop connect out to an address the client names
      blacklist: ['RETR', 'DELE', 'RMD', 'MKD', 'RNFR', 'RNTO', 'SITE', 'STOU', 'PORT', 'EPRT'],
      log: quietLog(opts.logger),
    });
    // ftp-srv's constructor makes SIGTERM/SIGINT/SIGQUIT call process.exit(0) after 100 ms, which
    // would cut every upload in flight: casedrop's own graceful stop (src/lifecycle.ts) decides
    for (const [sig, before] of signalListeners) for (const l of process.listeners(sig)) if (!before.includes(l)) process.removeListener(sig, l);
    server.on('login', ({ connection, username, password }, resolve, reject) => {
      const address = (connection as unknown as { ip?: string }).ip ?? '';
      opts.auth.login(String(username), String(password), ['ftps'], address).then((result) => {
        if (!result.ok) {
          opts.logger.info({ caseNumber: String(username).slice(0, 40), why: result.why }, 'ftps login refused');
          return reject(new Error(result.why === 'limited' ? `Too many failed logins; try again in ${result.retryAfterSeconds ?? 60} s.` : 'Login incorrect.'));
        }
        const log = opts.logger.child({ caseNumber: result.login.caseNumber, token: result.login.token.id, client: address });
        resolve({ fs: new UploadFileSystem(result.login, opts.sink, log) as never, cwd: '/' });
      }, reject);
    });
    server.on('client-error', ({ error }) => opts.logger.debug({ err: error }, 'ftps client error'));
    await server.listen();
    started.push(server);
  }
  const portOf = (i: number) => (started[i] as unknown as { server: { address(): AddressInfo } }).server.address().port;
  opts.logger.info({ host: opts.host, port: portOf(0), implicitPort: started[1] ? portOf(1) : undefined }, 'FTPS listening');
  return {
    port: portOf(0),
    ...(started[1] ? { implicitPort: portOf(1) } : {}),
    async stop() {
      await Promise.all(started.map((s) => s.close().catch(() => undefined)));
    },
  };
}

/** ftp-srv logs through a bunyan-shaped object: send its errors to ours, drop its chatter. */
function quietLog(logger: Logger) {
  const log = {
    child: () => log,
    trace: () => undefined,
    debug: () => undefined,
    info: () => undefined,
    warn: (...a: unknown[]) => logger.debug({ ftpSrv: a.map(String).join(' ').slice(0, 300) }, 'ftp-srv warning'),
    error: (...a: unknown[]) => logger.debug({ ftpSrv: a.map(String).join(' ').slice(0, 300) }, 'ftp-srv error'),
    fatal: (...a: unknown[]) => logger.error({ ftpSrv: a.map(String).join(' ').slice(0, 300) }, 'ftp-srv fatal'),
  };
  return log;
}
