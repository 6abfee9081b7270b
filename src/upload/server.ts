import { readFile } from 'node:fs/promises';
import { createServer as createHttpServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { createServer as createHttpsServer } from 'node:https';
import { isIP } from 'node:net';
import type { Config } from '../config/schema.js';
import { CasedropError, ErrorCode } from '../errors.js';
import type { Logger } from '../log.js';
import { gate, type GateDeps } from './gate.js';
import { homePath } from './headers.js';
import { send, storeUpload, type PutDeps } from './put.js';
import { refusal, type UploadRefusal } from './replies.js';
import { headUpload, patchUpload } from './resume.js';

/**
 * The public upload listener, apart from the internal /healthz,/metrics one. node:http rather
 * than Fastify: an upload needs the raw request stream and its own answer to
 * `Expect: 100-continue` (Node's `checkContinue` event), which Fastify's request cycle hides.
 * No request timeout (a 1 TiB upload takes hours); an idle socket is closed instead.
 */
export interface UploadServerDeps {
  config: Pick<
    Config,
    'uploadHost' | 'uploadPort' | 'uploadTlsCert' | 'uploadTlsKey' | 'uploadIdleTimeoutMs' | 'caseDigits' | 'uploadMaxFileBytes' | 'uploadMaxCaseBytes'
  >;
  gate: GateDeps;
  put: PutDeps;
  logger: Logger;
  /** other routes (JWKS, tus); return true when handled */
  extraRoutes?: Array<(req: IncomingMessage, res: ServerResponse, expectsContinue: boolean) => boolean>;
}

export interface UploadListener {
  server: Server;
  /** what it was started with (a test starts a second listener with other settings) */
  deps: UploadServerDeps;
  port: number;
  tls: boolean;
  stop(graceMs: number): Promise<void>;
}

export async function startUploadListener(deps: UploadServerDeps): Promise<UploadListener> {
  const { config, logger } = deps;
  const tls = config.uploadTlsCert !== undefined && config.uploadTlsKey !== undefined;
  if (!tls && !isLoopback(config.uploadHost)) {
    throw new CasedropError(
      ErrorCode.ConfigInvalid,
      `CASEDROP_UPLOAD_HOST: ${config.uploadHost} is not a loopback address; without CASEDROP_UPLOAD_TLS_CERT and CASEDROP_UPLOAD_TLS_KEY uploads are served on loopback only`,
    );
  }
  const server = tls ? createHttpsServer({ cert: await readFile(config.uploadTlsCert!), key: await readFile(config.uploadTlsKey!) }) : createHttpServer();
  server.requestTimeout = 0;
  server.headersTimeout = 30_000;
  server.timeout = config.uploadIdleTimeoutMs;
  const handle = (req: IncomingMessage, res: ServerResponse, expectsContinue: boolean) => {
    route(req, res, expectsContinue, deps).catch((err: unknown) => {
      logger.error({ err: (err as Error).message }, 'upload request failed');
      send(res, 500, { error: 'internal', message: refusal('internal').message }, { connection: 'close' });
    });
  };
  server.on('checkContinue', (req, res) => handle(req, res, true));
  server.on('request', (req, res) => handle(req, res, false));
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(config.uploadPort, config.uploadHost, () => resolve());
  });
  const address = server.address();
  const port = typeof address === 'object' && address ? address.port : config.uploadPort;
  if (tls) logger.info({ host: config.uploadHost, port }, 'upload listener (HTTPS) started');
  else
    logger.warn(
      { host: config.uploadHost, port },
      'UPLOADS ARE PLAIN HTTP: no CASEDROP_UPLOAD_TLS_CERT/KEY, so the upload listener serves loopback only; put TLS in front or configure a certificate before customers use it',
    );
  return { server, deps, port, tls, stop: (graceMs) => stopServer(server, graceMs) };
}

async function route(req: IncomingMessage, res: ServerResponse, expectsContinue: boolean, deps: UploadServerDeps): Promise<void> {
  for (const extra of deps.extraRoutes ?? []) if (extra(req, res, expectsContinue)) return;
  const name = homePath(req.url);
  if (name === undefined) return refuse(res, refusal('not-found'));
  if (typeof name !== 'string') return refuse(res, refusal('bad-name', { why: 'The name is not valid percent-encoded UTF-8.' }));
  if (req.method === 'HEAD') return headUpload(req, res, name, deps);
  if (req.method === 'PATCH') return patchUpload(req, res, name, expectsContinue, deps);
  if (req.method !== 'PUT') return refuse(res, refusal('method'), { allow: 'PUT, HEAD, PATCH' });
  const clientAddress = req.socket.remoteAddress ?? '';
  const decided = await gate(req, name, 'https', clientAddress, deps.gate);
  if (!decided.ok) return refuse(res, decided.refusal);
  if (expectsContinue) res.writeContinue();
  await storeUpload(req, res, decided.admission, 'https', clientAddress, deps.put);
}

/** The body is not wanted: answer and close, so a client without Expect stops sending. */
function refuse(res: ServerResponse, r: UploadRefusal, headers: Record<string, string> = {}): void {
  send(res, r.status, { error: r.code, message: r.message }, { ...r.headers, ...headers, connection: 'close' });
}

async function stopServer(server: Server, graceMs: number): Promise<void> {
  const closed = new Promise<void>((resolve) => server.close(() => resolve()));
  server.closeIdleConnections();
  const timer = setTimeout(() => server.closeAllConnections(), Math.max(0, graceMs - 100));
  timer.unref();
  await closed;
  clearTimeout(timer);
}

export function isLoopback(host: string): boolean {
  if (host === 'localhost') return true;
  if (isIP(host) === 4) return host.startsWith('127.');
  return host === '::1';
}
