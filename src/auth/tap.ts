import { once } from 'node:events';
import { PassThrough } from 'node:stream';
import type { CheckOptions, Envelope } from './check.js';
import type { SenderAuth } from './types.js';

/**
 * Feeds a message to the sender checks while it streams past (the SMTP door's `require` policy),
 * so the verdict is ready at the final dot without reading the message again. `feed` waits while
 * mailauth is behind, so the client's pace follows ours and memory stays bounded.
 * A failure inside the checks is a temporary failure: the sender is asked to retry.
 */
export class AuthTap {
  readonly result: Promise<SenderAuth>;
  private readonly input = new PassThrough({ highWaterMark: 256 * 1024 });
  private settled = false;

  constructor(env: Envelope, o: CheckOptions) {
    // mailauth is loaded with the first tap: a door without the `require` policy never loads it
    this.result = import('./check.js').then(({ checkSender }) => checkSender(this.input, env, o)).catch(() => failed(env, o));
    void this.result.finally(() => {
      this.settled = true;
    });
  }

  async feed(chunk: Buffer): Promise<void> {
    if (this.settled || this.input.destroyed) return;
    if (!this.input.write(chunk)) await Promise.race([once(this.input, 'drain'), this.result]);
  }

  end(): void {
    if (!this.input.destroyed) this.input.end();
  }

  /** The message will not be spooled after all: stop checking. */
  abort(): void {
    if (!this.input.writableEnded) this.input.destroy();
  }
}

function failed(env: Envelope, o: CheckOptions): SenderAuth {
  return {
    spf: { result: 'temperror' },
    dkim: [],
    dmarc: { result: 'temperror' },
    arc: { result: 'none' },
    clientAddress: env.clientAddress,
    ...(env.heloName ? { heloName: env.heloName } : {}),
    trustedNetwork: o.trusted.has(env.clientAddress),
    header: `Authentication-Results: ${o.hostname}; spf=temperror; dmarc=temperror`,
  };
}
