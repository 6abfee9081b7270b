import { parentPort, workerData } from 'node:worker_threads';
import type { Config } from '../config/schema.js';
import { isCasedropError } from '../errors.js';
import { createLogger } from '../log.js';
import { openStoreForReading } from '../store/open.js';
import { intakeVerifier } from './intake-options.js';
import { analyseSpooled, type AnalyseDeps, type Analysis } from './analyse.js';
import { BIG_BUFFER_BYTES, ownsAllOfItsMemory, release } from '../release.js';

/**
 * The parse thread (isolate.ts starts it): reads one spooled message at a time from the store and
 * sends back the analysis, moving attachment bytes rather than copying them. It opens the store
 * read-only: no init, so it never touches the main thread's temp files.
 */
const config = workerData as Config;
const logger = createLogger(config.logLevel).child({ component: 'parse-thread' });
const deps: AnalyseDeps = {
  config,
  // with the key store: spooled messages are wrapped under their own keys (src/store/key-source.ts)
  store: await openStoreForReading(config, logger),
  verify: await intakeVerifier(config),
  logger,
};

parentPort!.postMessage({ ready: true });
parentPort!.on('message', ({ spoolId, size }: { spoolId: string; size?: number }) => {
  const held: Buffer[] = [];
  analyseSpooled(spoolId, { ...deps, held }, size)
    .then(
      (analysis) => parentPort!.postMessage({ ok: analysis }, transferables(analysis, held)),
      (err: unknown) => parentPort!.postMessage({ error: { code: isCasedropError(err) ? err.code : undefined, message: (err as Error).message } }),
    )
    // posted (copied or moved): nothing here reads the message's bytes any more
    .finally(() => held.forEach((buffer) => release(buffer, BIG_BUFFER_BYTES)));
});

/**
 * Moved rather than copied: attachment buffers that own their whole memory, and the buffer the
 * message was read into when attachments are views of it (big ones are decoded over their base64
 * lines, parse.ts). Small pooled buffers are copied.
 */
function transferables(analysis: Analysis, held: readonly Buffer[]): ArrayBuffer[] {
  if (analysis.kind !== 'parsed') return [];
  const ours = new Set(held.filter(ownsAllOfItsMemory).map((b) => b.buffer));
  const out = new Set<ArrayBuffer>();
  for (const { part } of analysis.judged) {
    const b = part.content.buffer;
    if (b instanceof ArrayBuffer && (ownsAllOfItsMemory(part.content) || ours.has(b))) out.add(b);
  }
  return [...out];
}
