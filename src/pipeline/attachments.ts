/**
 * Which MIME parts are the customer's files. Pure: it sees descriptions of parts, never bytes.
 * The complaints this avoids (see the README): inline images counted as files, signatures counted as
 * files, Apple Mail's inline attachments lost, TNEF hiding the real files.
 */
export interface PartInfo {
  contentType: string;
  /** the Content-Disposition value as sent (`attachment`, `inline`), lower case, if any */
  disposition?: string;
  filename?: string;
  /** Content-ID without angle brackets */
  cid?: string;
}

export type PartClass = 'attachment' | 'tnef' | 'smime-opaque' | 'forwarded-message' | 'ignored';

const SIGNATURE_TYPES = new Set(['application/pkcs7-signature', 'application/x-pkcs7-signature', 'application/pgp-signature']);
const TNEF_TYPES = new Set(['application/ms-tnef', 'application/vnd.ms-tnef']);
// opaque-signed or S/MIME-encrypted: the whole MIME tree, files included, is inside the PKCS#7
const OPAQUE_SMIME_TYPES = new Set(['application/pkcs7-mime', 'application/x-pkcs7-mime']);

export function classifyPart(part: PartInfo, referencedCids: ReadonlySet<string>): PartClass {
  const type = part.contentType.toLowerCase();
  if (type === 'message/rfc822') return 'forwarded-message';
  if (SIGNATURE_TYPES.has(type)) return 'ignored';
  if (OPAQUE_SMIME_TYPES.has(type)) return 'smime-opaque';
  if (TNEF_TYPES.has(type) || part.filename?.toLowerCase() === 'winmail.dat') return 'tnef';
  // an image the HTML shows in place (logo, signature) is decoration, not a file the customer sent
  if (type.startsWith('image/') && part.cid !== undefined && referencedCids.has(part.cid.toLowerCase())) return 'ignored';
  if (part.disposition === 'attachment' || (part.filename !== undefined && part.filename !== '')) return 'attachment';
  return 'ignored';
}

/** Content-IDs the HTML body references (`src="cid:…"`), lower case, percent-decoded (RFC 2392). */
export function referencedCids(html: string | undefined): Set<string> {
  const cids = new Set<string>();
  if (!html) return cids;
  for (const m of html.matchAll(/cid:([^"'\s>)]+)/gi)) {
    let cid = m[1] ?? '';
    try {
      cid = decodeURIComponent(cid);
    } catch {
      // a malformed escape: keep it as written
    }
    cids.add(cid.replace(/^<|>$/g, '').toLowerCase());
  }
  return cids;
}

/** TNEF files start with 0x223E9F78, little-endian. */
export function looksLikeTnef(head: Uint8Array): boolean {
  return head.length >= 4 && head[0] === 0x78 && head[1] === 0x9f && head[2] === 0x3e && head[3] === 0x22;
}
