import type { Config } from '../config/schema.js';
import { CasedropError } from '../errors.js';
import type { Logger } from '../log.js';
import type { ObjectStore } from '../store/types.js';
import type { VerifyInput, VerifyResult } from '../verify/types.js';
import { spoolObjectId } from '../jobs/ids.js';
import { reasonTable, type ReasonCode } from '../reasons/table.js';
import { parseMessage, TooManyParts, type ParsedAttachment, type ParsedMessage } from './parse.js';
import type { MessageReason } from './refusals.js';

/**
 * The dangerous part of an intake job: reading the customer's MIME and judging each file. It sees
 * only the spool object and returns the parsed message with one verdict per judged file, or the
 * message-level refusal. It runs in a worker thread with its own heap limit and time budget
 * (isolate.ts); this module is the same code run in the calling thread, for tests and tools.
 */
export type AnalyseConfig = Pick<Config, 'forwardDepth' | 'maxFilesPerMessage' | 'maxMimeParts' | 'maxNameChars' | 'maxHeaderValueChars'>;

export interface Judged {
  part: ParsedAttachment;
  verdict: VerifyResult;
}

export type Analysis =
  | { kind: 'parsed'; message: Omit<ParsedMessage, 'attachments'>; judged: Judged[]; extra: { count: number; size: number } }
  | { kind: 'refused'; reason: MessageReason };

/**
 * `size`: the spooled object's size when the caller has read its header already (one open of it fewer).
 * `enter`: awaited when the message is about to be parsed (its thread loaded and free); a rejection
 * rejects the analysis unparsed. The poison marker counts there, so a process death counts only the
 * messages being parsed, not the ones waiting for a thread or for a thread to start.
 */
export type Analyse = (spoolId: string, size?: number, enter?: () => Promise<void>) => Promise<Analysis>;

export interface AnalyseDeps {
  config: AnalyseConfig;
  store: ObjectStore;
  verify: (input: VerifyInput) => Promise<VerifyResult>;
  logger: Logger;
  /** gets the buffers read for this message (parse.ts `held`), for the caller to free once it is done */
  held?: Buffer[];
}

export async function analyseSpooled(spoolId: string, deps: AnalyseDeps, size?: number): Promise<Analysis> {
  const parsed = await parseSpooled(spoolId, deps, size);
  if (parsed === 'unparseable' || parsed === 'too-many-parts') return { kind: 'refused', reason: parsed };
  const { attachments, ...message } = parsed;
  const files = attachments.slice(0, deps.config.maxFilesPerMessage);
  const rest = attachments.slice(files.length);
  const judged: Judged[] = [];
  // one at a time: each verification may decrypt in memory
  for (const part of files) judged.push({ part, verdict: await judgeOne(part, deps.verify) });
  return { kind: 'parsed', message, judged, extra: { count: rest.length, size: rest.reduce((n, p) => n + p.content.length, 0) } };
}

/** A store failure is thrown (temporary, or corrupt: the caller decides); bytes mailparser cannot read never will be. */
async function parseSpooled(spoolId: string, deps: AnalyseDeps, known?: number): Promise<ParsedMessage | 'unparseable' | 'too-many-parts'> {
  const size = known ?? (await deps.store.head(spoolObjectId(spoolId))).size;
  const stream = await deps.store.get(spoolObjectId(spoolId));
  const c = deps.config;
  try {
    return await parseMessage(stream, {
      size,
      maxDepth: c.forwardDepth,
      maxParts: c.maxMimeParts,
      maxNameChars: c.maxNameChars,
      maxHeaderChars: c.maxHeaderValueChars,
      ...(deps.held ? { held: deps.held } : {}),
      // the store decrypts each chunk into a buffer of its own, which nothing else keeps
      freeChunks: true,
    });
  } catch (err) {
    if (err instanceof CasedropError) throw err;
    if (err instanceof TooManyParts) {
      deps.logger.warn({ spoolId, limit: err.limit }, 'message has too many MIME parts');
      return 'too-many-parts';
    }
    deps.logger.warn({ spoolId, err: (err as Error).message }, 'message could not be parsed');
    return 'unparseable';
  } finally {
    stream.destroy();
  }
}

async function judgeOne(part: ParsedAttachment, verify: AnalyseDeps['verify']): Promise<VerifyResult> {
  if (part.kind === 'tnef') return aroundThePart('tnef', 'tnef');
  if (part.kind === 'smime-opaque') return aroundThePart('smime', 'smime-opaque');
  if (part.kind === 'too-deep') return aroundThePart('message', 'nesting-too-deep');
  return verify({ name: part.filename, buffer: part.content });
}

/** A refusal decided by the message around the part, not by its bytes. */
function aroundThePart(format: string, reason: ReasonCode): VerifyResult {
  return { format, verdict: 'reject', reason, details: {}, advice: reasonTable[reason].advice };
}
