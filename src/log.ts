import { createHash } from 'node:crypto';
import { pino, type Logger } from 'pino';

export type { Logger };

/** Censored wherever they appear in a log line, at any depth. */
const SECRET_KEYS = new Set(['password', 'pass', 'token', 'key', 'masterKeys', 'secret']);
/** Fields that carry email addresses: below debug, each address shows as a stable hash and its domain. */
const ADDRESS_KEYS = new Set(['mailFrom', 'sender', 'from', 'to', 'rcptTo', 'recipient', 'owner', 'replyTo']);
// bounded: a local part and a domain of at most 64 and 255 characters, as RFC 5321 allows
const ADDRESS = /[^\s<>"',;:@]{1,64}@([A-Za-z0-9.-]{1,255})/g;
const VERBOSE_LEVELS = new Set(['debug', 'trace']);
const MAX_DEPTH = 8;

/**
 * One JSON logger per process; stages take child loggers carrying their session or job id.
 * Scrubbing is a second line of defence (the first is never passing keys, tokens or bodies in):
 * secrets are censored at any depth, and customers' addresses are logged in full only at debug
 * level; at info an operator still sees the domain and can follow one sender by its hash.
 */
export function createLogger(level: string, destination?: pino.DestinationStream): Logger {
  const scrub = scrubber(!VERBOSE_LEVELS.has(level));
  const logger = pino({ level, base: { pid: process.pid }, formatters: { log: (obj) => scrub(obj) } }, destination);
  // pino applies no formatter to a child's bindings; children inherit this child() from the root
  type Child = (this: Logger, bindings: pino.Bindings, options?: pino.ChildLoggerOptions) => Logger;
  const child = logger.child as unknown as Child;
  const scrubbedChild: Child = function (bindings, options) {
    return child.call(this, scrub(bindings), options);
  };
  logger.child = scrubbedChild as unknown as Logger['child'];
  return logger;
}

/** `#<12 hex of SHA-256>@domain`: the same address always gives the same text, in every process. */
export function maskAddress(address: string): string {
  return address.replace(
    ADDRESS,
    (whole, domain: string) => `#${createHash('sha256').update(whole.toLowerCase()).digest('hex').slice(0, 12)}@${domain.toLowerCase()}`,
  );
}

function scrubber(maskAddresses: boolean): (obj: Record<string, unknown>) => Record<string, unknown> {
  const walk = (value: unknown, key: string, depth: number): unknown => {
    if (SECRET_KEYS.has(key)) return '[redacted]';
    if (maskAddresses && ADDRESS_KEYS.has(key)) return maskValue(value);
    if (depth >= MAX_DEPTH || value === null || typeof value !== 'object') return value;
    if (Array.isArray(value)) return value.map((v) => walk(v, '', depth + 1));
    // only plain objects: an Error or a Buffer goes to pino's serializers as it is
    if (Object.getPrototypeOf(value) !== Object.prototype) return value;
    return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, walk(v, k, depth + 1)]));
  };
  return (obj) => walk(obj, '', 0) as Record<string, unknown>;
}

function maskValue(value: unknown): unknown {
  if (typeof value === 'string') return maskAddress(value);
  if (Array.isArray(value)) return value.map(maskValue);
  return value;
}
