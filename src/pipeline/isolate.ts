import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { Worker } from 'node:worker_threads';
import type { Config } from '../config/schema.js';
import { CasedropError, type ErrorCode } from '../errors.js';
import type { Logger } from '../log.js';
import type { Analyse, Analysis } from './analyse.js';

/**
 * Parse threads: each message is parsed and verified in a worker thread with its own V8 heap limit
 * (`resourceLimits`) and a time budget, so a message that exhausts memory or time ends that thread,
 * not the door or the other jobs, and is refused as `too-complex`. A thread handles one message at
 * a time (a blow-up then has one culprit); messages beyond the threads wait in order.
 */
export interface ParsePool {
  analyse: Analyse;
  /** starts every thread now and waits until each has loaded the parser (a fixed cost, not a message's) */
  warm(): Promise<void>;
  close(): Promise<void>;
}

type Reply = { ok: Analysis } | { error: { code?: ErrorCode; message: string } } | { ready: true };

interface Task {
  spoolId: string;
  size?: number;
  enter?: () => Promise<void>;
  resolve: (a: Analysis) => void;
  reject: (e: unknown) => void;
}

const ENTRY = new URL('./isolate-worker.js', import.meta.url);

/** The compiled thread entry exists only in dist/ (tests run src/ through vitest use the calling thread). */
export function parseThreadsAvailable(): boolean {
  return existsSync(fileURLToPath(ENTRY));
}

export function startParsePool(config: Config, logger: Logger): ParsePool {
  const log = logger.child({ component: 'parse-pool' });
  const idle: Worker[] = [];
  const queue: Task[] = [];
  let live = 0;
  let closed = false;

  const spawn = (): Worker => {
    live++;
    const worker = new Worker(ENTRY, {
      workerData: { ...config },
      resourceLimits: { maxOldGenerationSizeMb: config.parseMemoryMb, maxYoungGenerationSizeMb: 6, stackSizeMb: 4 },
    });
    worker.ready = new Promise<void>((resolve) => {
      const onMessage = (m: Reply) => {
        if ('ready' in m) resolve();
      };
      worker.on('message', onMessage);
      worker.once('exit', () => resolve());
    });
    return worker;
  };

  const pump = (): void => {
    while (!closed && queue.length > 0 && (idle.length > 0 || live < config.parseThreads)) {
      const worker = idle.pop() ?? spawn();
      run(worker, queue.shift()!);
    }
  };

  const run = (worker: Worker, task: Task): void => {
    let settled = false;
    // only this task's listeners go: removeAllListeners() would also drop the ones through which
    // Node restarts the thread's message port, and the thread's next answer would never arrive
    const onMessage = (reply: Reply) => {
      if ('ready' in reply) return;
      if ('ok' in reply) return finish(true, () => task.resolve(revive(reply.ok)));
      finish(true, () => task.reject(reply.error.code ? new CasedropError(reply.error.code, reply.error.message) : new Error(reply.error.message)));
    };
    // ERR_WORKER_OUT_OF_MEMORY, a stack overflow, anything the message made the thread throw
    const onError = (err: Error & { code?: string }) => finish(false, tooComplex(err.code ?? err.message));
    const onExit = (code: number) => finish(false, tooComplex(`thread exited with ${code}`));
    const finish = (keep: boolean, outcome: () => void) => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      worker.off('message', onMessage).off('error', onError).off('exit', onExit);
      if (keep && !closed) idle.push(worker);
      else {
        live--;
        // a thread dropped over its time budget can still hit its heap limit before it stops: that
        // 'error' has nobody left to tell, and unheard it would take the whole process down
        worker.on('error', () => undefined);
        void worker.terminate();
      }
      outcome();
      pump();
    };
    const tooComplex = (why: string) => () => {
      log.warn({ spoolId: task.spoolId, event: 'parse_too_complex', why }, 'message refused as too complex');
      task.resolve({ kind: 'refused', reason: 'too-complex' });
    };
    // the budget is the message's, so it starts once the thread has loaded: on a loaded machine a
    // fresh thread's start-up alone can take seconds, and must not turn a plain message into too-complex
    // (nor count as an attempt that died in the parse, which `enter` marks)
    let timer: NodeJS.Timeout | undefined;
    worker.on('message', onMessage).on('error', onError).on('exit', onExit);
    void (worker.ready ?? Promise.resolve())
      .then(() => (settled ? undefined : task.enter?.()))
      .then(
        () => {
          if (settled) return;
          timer = setTimeout(() => finish(false, tooComplex(`took longer than ${config.parseTimeMs} ms`)), config.parseTimeMs);
          worker.postMessage({ spoolId: task.spoolId, size: task.size });
        },
        (err: unknown) => finish(true, () => task.reject(err)),
      );
  };

  return {
    analyse: (spoolId, size, enter) =>
      new Promise<Analysis>((resolve, reject) => {
        if (closed) return reject(new Error('parse pool closed'));
        queue.push({ spoolId, size, enter, resolve, reject });
        pump();
      }),
    warm: async () => {
      while (!closed && live < config.parseThreads) idle.push(spawn());
      await Promise.all(idle.map((w) => w.ready ?? Promise.resolve()));
    },
    close: async () => {
      closed = true;
      for (const task of queue.splice(0)) task.reject(new Error('parse pool closed'));
      await Promise.all(idle.splice(0).map((w) => w.terminate()));
    },
  };
}

declare module 'node:worker_threads' {
  interface Worker {
    /** set by the pool: resolves once the thread has loaded the parser (or died) */
    ready?: Promise<void>;
  }
}

/** Structured clone gives Uint8Arrays back; the intake stage works on Buffers. */
function revive(analysis: Analysis): Analysis {
  if (analysis.kind !== 'parsed') return analysis;
  for (const j of analysis.judged) {
    const c = j.part.content as Uint8Array;
    j.part.content = Buffer.from(c.buffer, c.byteOffset, c.byteLength);
  }
  return analysis;
}
