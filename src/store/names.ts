import { CasedropError, ErrorCode } from '../errors.js';

/**
 * Ids are `namespace/name`, each segment [A-Za-z0-9._-]. A segment may not start with a dot (so
 * no `.`, `..`, hidden files or the backend's `.tmp`) nor end in `.cdo` (the object file suffix,
 * so a namespace directory can never collide with an object file).
 */
const SEGMENT = /^[A-Za-z0-9_-][A-Za-z0-9._-]{0,127}$/;
export const OBJECT_SUFFIX = '.cdo';
const MAX_ID_LENGTH = 512;

export function isSegment(s: string): boolean {
  return SEGMENT.test(s) && !s.endsWith(OBJECT_SUFFIX);
}

export function assertNamespace(namespace: string): void {
  if (!namespace.split('/').every(isSegment)) throw bad(`namespace "${printable(namespace)}"`);
}

export function assertName(name: string): void {
  if (!isSegment(name)) throw bad(`object name "${printable(name)}"`);
}

export function makeId(namespace: string, name: string): string {
  assertNamespace(namespace);
  assertName(name);
  const id = `${namespace}/${name}`;
  if (id.length > MAX_ID_LENGTH) throw bad(`id longer than ${MAX_ID_LENGTH} characters`);
  return id;
}

/** A full id: at least a namespace and a name. */
export function assertId(id: string): void {
  const parts = id.split('/');
  if (parts.length < 2 || id.length > MAX_ID_LENGTH || !parts.every(isSegment)) throw bad(`object id "${printable(id)}"`);
}

/** A list prefix: whole segments, optionally ending in `/` or in the start of a segment. */
export function assertPrefix(prefix: string): void {
  if (prefix === '') return;
  const parts = prefix.split('/');
  const last = parts.pop() ?? '';
  if (!parts.every(isSegment) || (last !== '' && !/^[A-Za-z0-9_-][A-Za-z0-9._-]*$/.test(last))) {
    throw bad(`list prefix "${printable(prefix)}"`);
  }
}

function bad(what: string): CasedropError {
  return new CasedropError(ErrorCode.UsageInvalid, `invalid ${what}: segments are [A-Za-z0-9._-], not starting with "." nor ending in "${OBJECT_SUFFIX}"`);
}

/** Keeps control characters out of log lines and error messages. */
function printable(s: string): string {
  return JSON.stringify(s.slice(0, 80)).slice(1, -1);
}

/**
 * Where a damaged object goes: one flat namespace, the original id kept readable (`spool/X` →
 * `quarantine/spool.X.<ms>`) and a time suffix so quarantining the same id twice keeps both.
 */
export function quarantineId(id: string, now = Date.now()): string {
  return makeId('quarantine', `${id.replace(/\//g, '.')}.${now}`.slice(-120).replace(/^[.]+/, ''));
}
