import { Readable } from 'node:stream';
import type { ObjectStore } from '../store/types.js';
import { checkSender, type CheckOptions } from './check.js';
import type { SenderAuth } from './types.js';

/**
 * The intake worker's sender check: the spooled message streamed once more through mailauth. The
 * door's Received header on top stays: DKIM picks signed header instances from the bottom up, so a
 * header added above them changes nothing. A store error is thrown (the job retries).
 *
 * Only DKIM and ARC signatures read the body (its hash); SPF and DMARC need the envelope and the
 * header block. A message without any signature header is therefore checked from its header block
 * alone: a 20 MB attachment is neither decrypted nor canonicalized a second time for nothing.
 */
export interface SpooledEnvelope {
  clientAddress: string;
  heloName?: string;
  mailFrom: string;
}

/** past this, the header block is not looked for: the whole message goes to mailauth */
const MAX_HEAD_BYTES = 1 << 20;
// a field name at the start of a line (the block's first line has none before it)
const SIGNATURE = /(?:^|\n)(?:dkim-signature|arc-seal|arc-message-signature)[ \t]*:/i;

export async function checkSpooled(store: ObjectStore, objectId: string, env: SpooledEnvelope, o: CheckOptions): Promise<SenderAuth> {
  const stream = await store.get(objectId);
  try {
    const chunks = stream[Symbol.asyncIterator]() as AsyncIterator<Buffer>;
    const head = await readHead(chunks);
    if (head.end !== undefined && !SIGNATURE.test(head.bytes.toString('latin1', 0, head.end))) {
      return await checkSender(Readable.from([head.bytes.subarray(0, head.end)]), env, o);
    }
    return await checkSender(Readable.from(rejoin(head.bytes, chunks)), env, o);
  } finally {
    stream.destroy();
  }
}

/** The bytes read until the empty line that ends the header block (`end`: just past it), or the cap. */
async function readHead(chunks: AsyncIterator<Buffer>): Promise<{ bytes: Buffer; end?: number }> {
  let bytes = Buffer.alloc(0);
  while (bytes.length <= MAX_HEAD_BYTES) {
    const next = await chunks.next();
    if (next.done) return { bytes, end: blankLineEnd(bytes) ?? bytes.length };
    bytes = Buffer.concat([bytes, next.value]);
    const end = blankLineEnd(bytes);
    if (end !== undefined) return { bytes, end };
  }
  return { bytes };
}

function blankLineEnd(bytes: Buffer): number | undefined {
  const crlf = bytes.indexOf('\r\n\r\n');
  const lf = bytes.indexOf('\n\n');
  const ends = [crlf < 0 ? -1 : crlf + 4, lf < 0 ? -1 : lf + 2].filter((e) => e >= 0);
  return ends.length ? Math.min(...ends) : undefined;
}

async function* rejoin(first: Buffer, rest: AsyncIterator<Buffer>): AsyncGenerator<Buffer> {
  yield first;
  for (let next = await rest.next(); !next.done; next = await rest.next()) yield next.value;
}
