import type { Detector } from './detector.js';
import { HEAD_BYTES } from './detector.js';
import { openSource } from './source.js';
import type { VerifyInput, VerifyOptions, VerifyResult } from './types.js';
import { opensslDetector } from './openssl.js';
import { classifyPlain, nameOf, noteNameMismatch } from './plain.js';
import { zipDetector } from './zip.js';
import { openpgpDetector } from './openpgp.js';
import { sevenZipDetector } from './sevenzip.js';
// Detectors, most specific magic first. Each format module adds itself here with one line.
const detectors: Detector[] = [zipDetector, opensslDetector, sevenZipDetector, openpgpDetector];

export type { VerifyInput, VerifyOptions, VerifyResult } from './types.js';

/**
 * The intake policy's verdict for one attachment, by its bytes alone (never its name or MIME
 * type). Fails closed: an error inside a detector becomes `corrupt`, never an accept.
 */
export async function verify(input: VerifyInput, options: VerifyOptions = {}): Promise<VerifyResult> {
  return noteNameMismatch(await verifyContent(input, options), nameOf(input));
}

async function verifyContent(input: VerifyInput, options: VerifyOptions): Promise<VerifyResult> {
  const source = await openSource(input);
  try {
    const head = await source.read(0, HEAD_BYTES);
    for (const detector of detectors) {
      if (!detector.recognises(head, source.size)) continue;
      return await detector.verify(source, head, options).catch((err: unknown) => corrupt(detector.format, err));
    }
    return unrecognised(head, source.size);
  } finally {
    await source.close();
  }
}

function corrupt(format: string, err: unknown): VerifyResult {
  const message = err instanceof Error ? err.message : String(err);
  return { format, verdict: 'reject', reason: 'corrupt', details: { error: message.slice(0, 200) }, advice: 'The archive is damaged or truncated; create it again and resend it.' };
}

// Content no detector claimed: named by its magic (PDF, gzip, tar …) so the refusal says what it is.
function unrecognised(head: Buffer, size: number): VerifyResult {
  return classifyPlain(head, size);
}
