import { Worker } from 'node:worker_threads';
import { release } from '../release.js';

/**
 * SHA-256 of large objects on a thread of its own. Hashing was ~0.6 CPU s/GiB of the upload role's
 * event loop, the largest item on it; the writer already copies every byte into its staging buffers,
 * so it hands each full 1 MiB staging buffer over (transferred, not copied) and gets it back once
 * hashed. One thread per process, shared by every object being written, each hash keyed by an id.
 */

/** Staging buffers of one object out at once (the one being filled included): bounds its memory. */
const MAX_STAGES = 2;

type Reply = { id: number; buf: ArrayBuffer; digest?: Uint8Array };

// CommonJS run by `eval`: works from src/ (tests) and dist/ alike, and loads nothing of casedrop's
const THREAD_CODE = `
const { parentPort } = require('node:worker_threads');
const { createHash } = require('node:crypto');
const hashes = new Map();
parentPort.on('message', ({ id, buf, len, end, drop }) => {
  if (drop) return void hashes.delete(id);
  let hash = hashes.get(id);
  if (hash === undefined) hashes.set(id, (hash = createHash('sha256')));
  hash.update(new Uint8Array(buf, 0, len));
  if (!end) return parentPort.postMessage({ id, buf }, [buf]);
  hashes.delete(id);
  parentPort.postMessage({ id, buf, digest: hash.digest() }, [buf]);
});
`;

interface Job {
  returned: (buf: Buffer) => void;
  finished: (digest: Buffer) => void;
  failed: (err: Error) => void;
}

let thread: Worker | undefined;
let nextId = 0;
const jobs = new Map<number, Job>();

function hashThread(): Worker {
  if (thread) return thread;
  const worker = new Worker(THREAD_CODE, { eval: true, name: 'casedrop-hash' });
  // a dead thread fails the objects it was hashing (never a digest of part of one); the next object starts another
  const fail = (err: Error) => {
    if (thread !== worker) return;
    thread = undefined;
    const failed = [...jobs.values()];
    jobs.clear();
    for (const job of failed) job.failed(err);
  };
  worker.on('message', (reply: Reply) => {
    const job = jobs.get(reply.id);
    if (!job) return; // an aborted object's buffer
    const buf = Buffer.from(reply.buf);
    if (reply.digest === undefined) return job.returned(buf);
    jobs.delete(reply.id);
    job.returned(buf);
    job.finished(Buffer.from(reply.digest));
    holdProcess();
  });
  worker.on('error', (err) => fail(err));
  worker.on('exit', (code) => fail(new Error(`hash thread exited with code ${code}`)));
  thread = worker;
  return worker;
}

/** The thread keeps the process alive only while an object waits on it (a CLI awaiting a digest), never when idle. */
function holdProcess(): void {
  if (jobs.size > 0) thread?.ref();
  else thread?.unref();
}

/** Test hook: ends the thread as a crash would. */
export async function stopHashThread(): Promise<void> {
  await thread?.terminate();
}

/**
 * The SHA-256 of one object's plaintext, fed whole staging buffers in order. Each buffer given is
 * the caller's no more (its memory moves to the thread); `next()` lends the one to fill next.
 */
export class ThreadHash {
  private readonly id = nextId++;
  private readonly free: Buffer[] = [];
  private lent = 1;
  private waiting: { resolve: (b: Buffer) => void; reject: (e: Error) => void } | undefined;
  private result: Promise<Buffer>;
  private error: Error | undefined;
  private done = false;

  constructor(private readonly stageBytes: number) {
    let finished!: (d: Buffer) => void;
    let failed!: (e: Error) => void;
    this.result = new Promise<Buffer>((resolve, reject) => {
      finished = resolve;
      failed = reject;
    });
    // the writer may fail first and never ask for the digest
    this.result.catch(() => undefined);
    jobs.set(this.id, {
      returned: (buf) => this.returned(buf),
      finished: (digest) => finished(digest),
      failed: (err) => {
        this.error = err;
        this.waiting?.reject(err);
        this.waiting = undefined;
        failed(err);
      },
    });
    hashThread();
    holdProcess();
  }

  /** Hands over a full staging buffer; resolves to the next one to fill (waits while MAX_STAGES are out). */
  async update(stage: Buffer): Promise<Buffer> {
    this.post(stage, stage.length, false);
    const buf = this.free.pop();
    if (buf) return buf;
    if (this.lent < MAX_STAGES) {
      this.lent++;
      return Buffer.allocUnsafeSlow(this.stageBytes);
    }
    return new Promise<Buffer>((resolve, reject) => (this.waiting = { resolve, reject }));
  }

  /** Hands over the last staging buffer, `length` bytes of it, and waits for the digest. */
  async digest(stage: Buffer, length: number): Promise<Buffer> {
    this.post(stage, length, true);
    this.done = true;
    this.free.splice(0).forEach((buf) => release(buf));
    return this.result;
  }

  /** The object failed: the thread forgets it, what it still holds of it is dropped. */
  abort(): void {
    this.done = true;
    this.free.splice(0).forEach((buf) => release(buf));
    if (!jobs.delete(this.id)) return;
    thread?.postMessage({ id: this.id, drop: true });
    holdProcess();
  }

  private post(stage: Buffer, len: number, end: boolean): void {
    if (this.error) throw this.error;
    const worker = thread;
    if (!worker || !jobs.has(this.id)) throw new Error('hash thread gone');
    // a staging buffer owns its whole ArrayBuffer (allocUnsafeSlow), so transferring it moves nothing else
    const buf = stage.buffer as ArrayBuffer;
    worker.postMessage({ id: this.id, buf, len, end }, [buf]);
  }

  private returned(buf: Buffer): void {
    if (this.done) {
      // the last buffers come back with the digest: nothing fills them again
      release(buf);
      return;
    }
    if (this.waiting) {
      this.waiting.resolve(buf);
      this.waiting = undefined;
    } else this.free.push(buf);
  }
}
