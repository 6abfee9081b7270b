/**
 * Pure parsers of the request headers an upload depends on. Each caps the length first and
 * runs in linear time: they read attacker-controlled input before any authentication.
 */
const MAX_HEADER_CHARS = 2048;

export type Credentials = { kind: 'basic'; user: string; secret: string } | { kind: 'bearer'; secret: string };

export function parseAuthorization(header: string | undefined): Credentials | undefined {
  if (header === undefined || header.length > MAX_HEADER_CHARS) return undefined;
  const space = header.indexOf(' ');
  if (space < 0) return undefined;
  const scheme = header.slice(0, space).toLowerCase();
  const value = header.slice(space + 1).trim();
  if (scheme === 'bearer' && value !== '') return { kind: 'bearer', secret: value };
  if (scheme !== 'basic') return undefined;
  const decoded = Buffer.from(value, 'base64').toString('utf8');
  const colon = decoded.indexOf(':');
  if (colon < 0) return undefined;
  return { kind: 'basic', user: decoded.slice(0, colon), secret: decoded.slice(colon + 1) };
}

/**
 * RFC 9530 `Content-Digest` / `Repr-Digest`: a dictionary such as `sha-256=:<base64>:, sha-512=:…:`.
 * Returns the SHA-256 as hex, `undefined` when the header is absent or names only other
 * algorithms, and `'invalid'` when its sha-256 member is not 32 bytes of base64.
 */
export function parseSha256Digest(header: string | undefined): string | undefined | 'invalid' {
  if (header === undefined) return undefined;
  if (header.length > MAX_HEADER_CHARS) return 'invalid';
  for (const member of header.split(',')) {
    const eq = member.indexOf('=');
    if (eq < 0 || member.slice(0, eq).trim().toLowerCase() !== 'sha-256') continue;
    const value = member.slice(eq + 1).trim();
    if (!value.startsWith(':') || !value.endsWith(':') || value.length < 3) return 'invalid';
    const bytes = Buffer.from(value.slice(1, -1), 'base64');
    if (bytes.length !== 32 || bytes.toString('base64') !== value.slice(1, -1)) return 'invalid';
    return bytes.toString('hex');
  }
  return undefined;
}

export function reprDigest(sha256Hex: string): string {
  return `sha-256=:${Buffer.from(sha256Hex, 'hex').toString('base64')}:`;
}

/** undefined for a chunked body; 'invalid' for anything but a plain decimal. */
export function parseContentLength(header: string | undefined): number | undefined | 'invalid' {
  if (header === undefined) return undefined;
  if (!/^\d{1,16}$/.test(header)) return 'invalid';
  return Number(header);
}

/** `/home/<name>` → the decoded name (one segment), else undefined; a bad %-escape is 'invalid'. */
export function homePath(url: string | undefined): string | undefined | { invalid: true } {
  if (url === undefined || url.length > 4 * 1024) return undefined;
  const path = url.split('?', 1)[0]!;
  if (!path.startsWith('/home/')) return undefined;
  const raw = path.slice('/home/'.length);
  try {
    return decodeURIComponent(raw);
  } catch {
    return { invalid: true };
  }
}
