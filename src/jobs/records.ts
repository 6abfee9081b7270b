import { z } from 'zod';
import type { SenderAuth } from '../auth/types.js';
import { REASON_CODES } from '../reasons/table.js';

/**
 * The records one stage leaves in the store for the next, as zod schemas: they document each field
 * and they check what is read back, so a damaged or foreign record is refused by name instead of
 * being half-used. Fields that older records may lack have their defaults here.
 */

/** Metadata the SMTP door writes with each spooled message (encrypted with it), at `spool/<spoolId>`. */
export const spoolMetaSchema = z.object({
  spoolId: z.string().min(1),
  caseNumber: z.string().min(1),
  /** ISO time the door took the message */
  receivedAt: z.string(),
  /** envelope sender; '' for the null sender <> */
  mailFrom: z.string(),
  rcptTo: z.array(z.string()).default([]),
  messageId: z.string().optional(),
  /** decoded, trimmed */
  subject: z.string().optional(),
  clientAddress: z.string().default(''),
  heloName: z.string().optional(),
  sessionId: z.string().default(''),
  /** Auto-Submitted / Precedence / null sender: replies to it are suppressed */
  automatic: z.boolean().default(false),
});
export type SpoolMeta = z.infer<typeof spoolMetaSchema>;

/** A file kept in the case. */
export const storedFileSchema = z.object({
  /** object id, `cases/<n>/files/<spoolId>-p<part>` */
  id: z.string(),
  /** the name as the customer sent it */
  originalName: z.string(),
  /** the sanitised name, unique within the case */
  storedName: z.string(),
  size: z.number().int().nonnegative(),
  sha256: z.string(),
  /** by its bytes: zip, 7z, openpgp, openssl-enc */
  format: z.string(),
  cipher: z.string().optional(),
  /** set on the tombstone a purge or retention delete leaves in the outcome */
  removedAt: z.string().optional(),
  removal: z.enum(['purge', 'retention-delete']).optional(),
});
export type StoredFile = z.infer<typeof storedFileSchema>;

/** A file refused, with the reason code of src/reasons/table.ts and the advice the sender got. */
export const refusedFileSchema = z.object({
  originalName: z.string(),
  size: z.number().int().nonnegative(),
  format: z.string(),
  reason: z.enum(REASON_CODES),
  advice: z.string(),
  /** one entry standing for this many files (`too-many-files`); 1 when absent */
  count: z.number().int().positive().optional(),
});
export type RefusedFile = z.infer<typeof refusedFileSchema>;

export const outcomeKindSchema = z.enum(['stored', 'partial', 'refused', 'no-attachment', 'case-closed']);
export type OutcomeKind = z.infer<typeof outcomeKindSchema>;

const authResult = z.string();
/** How the sender was authenticated (src/auth/types.ts), as the intake worker found it. */
export const senderAuthSchema: z.ZodType<SenderAuth> = z.object({
  spf: z.object({ result: authResult, domain: z.string().optional() }),
  dkim: z.array(z.object({ domain: z.string(), result: authResult, aligned: z.boolean() })),
  dmarc: z.object({ result: authResult, domain: z.string().optional(), policy: z.string().optional() }),
  arc: z.object({ result: authResult }),
  headerFromDomain: z.string().optional(),
  clientAddress: z.string(),
  heloName: z.string().optional(),
  trustedNetwork: z.boolean(),
  /** the Authentication-Results field as mailauth wrote it */
  header: z.string(),
});

/** One per spooled message, stored at `outcomes/<spoolId>`; drives replies and notices. */
export const outcomeSchema = z.object({
  spoolId: z.string().min(1),
  caseNumber: z.string().min(1),
  kind: outcomeKindSchema,
  receivedAt: z.string(),
  processedAt: z.string(),
  mailFrom: z.string(),
  rcptTo: z.array(z.string()).default([]),
  /** the From header as sent */
  from: z.string().optional(),
  subject: z.string().optional(),
  messageId: z.string().optional(),
  automatic: z.boolean().default(false),
  stored: z.array(storedFileSchema).default([]),
  refused: z.array(refusedFileSchema).default([]),
  /** object id of the case note made from the message text */
  noteId: z.string().optional(),
  /** the original header block, for the DSN's text/rfc822-headers part */
  originalHeaders: z.string().default(''),
  /** SPF, DKIM, DMARC and ARC as the intake worker found them; absent in outcomes of older versions */
  auth: senderAuthSchema.optional(),
});
export type Outcome = z.infer<typeof outcomeSchema>;

/** What was wrong with a record, in one line: the first few fields by path. */
export function recordProblem(error: z.ZodError): string {
  return error.issues
    .slice(0, 3)
    .map((i) => `${i.path.join('.') || '(record)'}: ${i.message}`)
    .join('; ');
}
