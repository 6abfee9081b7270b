import { createHmac } from 'node:crypto';
import { UnrecoverableError } from 'bullmq';
import type { Outcome } from '../jobs/types.js';

/**
 * The signed JSON POST for each processed message. Payload and signature are pure; `postWebhook`
 * is the one network call, bounded by a timeout so a dead endpoint only ever holds its own job.
 */
export interface WebhookFile {
  name: string;
  size: number;
  /** null for a refused file: it was not kept, so nothing can be fetched by this hash */
  sha256: string | null;
  verdict: 'accepted' | 'refused';
  format: string;
  /** the customer's name for a stored file (`name` is the stored name) */
  originalName?: string;
  cipher?: string;
  reason?: string;
}

export interface WebhookPayload {
  event: 'message.processed';
  case: string;
  kind: Outcome['kind'];
  files: WebhookFile[];
  /** how many of `files` were refused */
  refused: number;
  messageId: string | null;
  spoolId: string;
  time: string;
}

export function webhookPayload(outcome: Outcome): WebhookPayload {
  const stored: WebhookFile[] = outcome.stored.map((f) => ({
    name: f.storedName,
    size: f.size,
    sha256: f.sha256,
    verdict: 'accepted',
    format: f.format,
    originalName: f.originalName,
    ...(f.cipher ? { cipher: f.cipher } : {}),
  }));
  const refused: WebhookFile[] = outcome.refused.map((r) => ({
    name: r.originalName,
    size: r.size,
    sha256: null,
    verdict: 'refused',
    format: r.format,
    reason: r.reason,
  }));
  return {
    event: 'message.processed',
    case: outcome.caseNumber,
    kind: outcome.kind,
    files: [...stored, ...refused],
    refused: refused.length,
    messageId: outcome.messageId ?? null,
    spoolId: outcome.spoolId,
    time: outcome.processedAt,
  };
}

/** `t=<unix seconds>,v1=<hex HMAC-SHA256(secret, "<t>.<body>")>`, the scheme Stripe made familiar. */
export function signature(secret: string, body: string, unixSeconds: number): string {
  const mac = createHmac('sha256', secret).update(`${unixSeconds}.${body}`).digest('hex');
  return `t=${unixSeconds},v1=${mac}`;
}

/** 2xx done; 408, 429 and 5xx may pass later; any other answer will not, so it is not retried. */
export function isRetryableStatus(status: number): boolean {
  return status === 408 || status === 429 || status >= 500;
}

export interface PostOptions {
  url: string;
  secret: string;
  deliveryId: string;
  timeoutMs: number;
  now?: () => number;
}

/** `payload` is a message's WebhookPayload or an upload event (src/upload/events.ts). */
export async function postWebhook(payload: WebhookPayload | { event: string }, o: PostOptions): Promise<number> {
  const body = JSON.stringify(payload);
  const t = Math.floor((o.now ?? Date.now)() / 1000);
  const res = await fetch(o.url, {
    method: 'POST',
    headers: {
      'content-type': 'application/json',
      'user-agent': 'casedrop',
      'x-casedrop-signature': signature(o.secret, body, t),
      'x-casedrop-delivery': o.deliveryId,
    },
    body,
    redirect: 'manual',
    signal: AbortSignal.timeout(o.timeoutMs),
  });
  await res.body?.cancel();
  if (res.status >= 200 && res.status < 300) return res.status;
  const message = `webhook answered ${res.status}`;
  if (isRetryableStatus(res.status)) throw new Error(message);
  throw new UnrecoverableError(message);
}
