import { createHash } from 'node:crypto';
import { PassThrough, pipeline } from 'node:stream';
import type { SMTPServerDataStream } from 'smtp-server';
import { HeaderReader } from './headers.js';
import { LineEndingGuard, type LineEndingMode } from './line-endings.js';

/**
 * The streaming half of DATA: smtp-server's data stream → line-ending guard → header reader →
 * SHA-256 tap → (the spool, or nowhere). Memory stays bounded: until the headers are known the
 * output is held (at most the header limit plus a chunk or two, since the header reader gives up at
 * its limit), afterwards the spool's pace drives the client's through backpressure.
 *
 * Whatever happens downstream, the client's data is read to the final dot: the reply to DATA can
 * only be sent after it. `stop()` cuts the chain (a put reading `body()` then fails and removes its
 * temp file) and the rest of the data is read and dropped.
 */
/** The part of headers.ts's header block the door reads. */
export interface HeaderBlock {
  get(name: string): string | undefined;
}

export type HeadResult =
  | { kind: 'headers'; headers: HeaderBlock }
  | { kind: 'tooBig' }
  /** the data ended or broke before a header block was seen */
  | { kind: 'none' };

export interface EndResult {
  /** the client went away before the final dot */
  hungUp: boolean;
  sizeExceeded: boolean;
  /** a bare CR or LF was seen (and rewritten in 'normalize' mode) */
  bareLineEnding: boolean;
  /** hex SHA-256 of the message as spooled, without our Received header */
  sha256: string;
  bytes: number;
}

export class DataPipe {
  readonly head: Promise<HeadResult>;
  readonly ended: Promise<EndResult>;
  private readonly guard: LineEndingGuard;
  private readonly reader: HeaderReader;
  private readonly tap: PassThrough;
  private readonly hash = createHash('sha256');
  private bytes = 0;
  private held: Buffer[] = [];
  private holding = true;
  private flowing = true;
  /** why the pipe was stopped, for the log */
  stopReason: string | undefined;

  constructor(
    private readonly source: SMTPServerDataStream,
    private readonly opts: { mode: LineEndingMode; maxHeaderBytes: number },
  ) {
    this.guard = new LineEndingGuard(opts.mode);
    this.reader = new HeaderReader(opts.maxHeaderBytes);
    this.tap = new PassThrough();
    this.tap.on('data', (chunk: Buffer) => this.onOutput(chunk));
    // errors surface through body() (its reader fails); these listeners only keep a late one
    // from being "unhandled"
    pipeline(this.guard, this.reader, this.tap, () => undefined);
    for (const stage of [this.guard, this.reader, this.tap]) stage.on('error', () => undefined);
    this.head = this.watchHead();
    this.ended = this.watchSource();
  }

  /**
   * The message as spooled: what was held while the headers were read, then the rest at the
   * reader's pace. Fails if the pipe is stopped, so a put reading it never commits a partial object.
   */
  async *body(): AsyncGenerator<Buffer> {
    this.holding = false;
    this.tap.removeAllListeners('data');
    this.tap.pause();
    const held = this.held;
    this.held = [];
    for (const chunk of held) yield chunk;
    for await (const chunk of this.tap) {
      this.count(chunk as Buffer);
      yield chunk as Buffer;
    }
  }

  /** Cuts the chain (a reader of body() fails) and drops the rest of the client's data. */
  stop(reason: string): void {
    if (!this.flowing) return;
    this.flowing = false;
    this.held = [];
    // each stage on its own: one that already finished would not pass a destroy along. A reader
    // of body() then fails with a premature close, so its put never commits.
    this.stopReason = reason;
    for (const stage of [this.guard, this.reader, this.tap]) stage.destroy();
    this.source.resume();
  }

  /** Once the headers are known and nothing will be spooled: read on only to the final dot. */
  get stopped(): boolean {
    return !this.flowing;
  }

  private onOutput(chunk: Buffer): void {
    this.count(chunk);
    if (this.holding) this.held.push(chunk);
  }

  private count(chunk: Buffer): void {
    this.hash.update(chunk);
    this.bytes += chunk.length;
  }

  private watchHead(): Promise<HeadResult> {
    return new Promise((resolve) => {
      this.reader.once('headers', (headers: HeaderBlock) => {
        // from here on the output waits for a reader (or for stop()) instead of piling up
        this.tap.pause();
        resolve({ kind: 'headers', headers });
      });
      this.reader.once('headersTooBig', () => resolve({ kind: 'tooBig' }));
      this.reader.once('close', () => resolve({ kind: 'none' }));
    });
  }

  private watchSource(): Promise<EndResult> {
    const { source, guard } = this;
    return new Promise((resolve) => {
      let done = false;
      const finish = (hungUp: boolean) => {
        if (done) return;
        done = true;
        resolve({
          hungUp,
          sizeExceeded: source.sizeExceeded,
          bareLineEnding: guard.found,
          sha256: this.hash.digest('hex'),
          bytes: this.bytes,
        });
      };
      source.on('data', (chunk: Buffer) => this.feed(chunk));
      source.once('end', () => {
        if (this.flowing) {
          guard.end();
          // the digest is complete once the chain has flushed everything to the tap
          this.tap.once('end', () => finish(false));
          this.tap.once('close', () => finish(false));
        } else finish(false);
      });
      source.once('error', () => {
        this.stop('the client went away');
        finish(true);
      });
      source.once('close', () => {
        if (!source.readableEnded) {
          this.stop('the client went away');
          finish(true);
        }
      });
    });
  }

  private feed(chunk: Buffer): void {
    if (!this.flowing) return;
    if (this.source.sizeExceeded) return this.stop('size limit exceeded');
    if (!this.guard.write(chunk)) {
      this.source.pause();
      this.guard.once('drain', () => this.source.resume());
    }
    if (this.opts.mode === 'reject' && this.guard.found) this.stop('bare line ending');
  }
}
