import type { Detector } from './common/detector.js';
import { HEAD_BYTES } from './common/detector.js';
import { decide } from './advice.js';
import { MapRefusal } from './common/byte-map.js';
import { openSource } from './common/source.js';
import type { VerifyInput, VerifyOptions, VerifyResult } from './types.js';
import { opensslDetector } from './openssl/index.js';
import { plainDetector } from './plain/index.js';
import { nameOf, noteNameMismatch } from './name.js';
import { zipDetector } from './zip/index.js';
import { openpgpDetector } from './openpgp/index.js';
import { sevenZipDetector } from './sevenzip/index.js';
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
    return await plainDetector.verify(source, head, options);
  } finally {
    await source.close();
  }
}

/**
 * Every walker reports a structure that does not hold by throwing `malformed(problem)` (→ corrupt),
 * and a finding on the file's byte map by throwing `refuse(reason, problem)`; anything else thrown
 * (a library's own error on hostile input) is `corrupt` too, failing closed.
 */
function corrupt(format: string, err: unknown): VerifyResult {
  if (err instanceof MapRefusal) return decide(format, err.reason, { details: { problem: err.message } });
  const message = err instanceof Error ? err.message : String(err);
  return decide(format, 'corrupt', { details: { problem: message.slice(0, 200) } });
}
