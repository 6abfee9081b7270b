import { simpleParser } from 'mailparser';
import { describe, expect, it } from 'vitest';
import type { AdmittedFile } from '../../src/intake/types.js';
import { MAX_REPLY_BYTES } from '../../src/notify/bounds.js';
import { buildUploadNotice } from '../../src/notify/upload-mail.js';
import { MAX_UPLOADS_LISTED } from '../../src/notify/upload-notice.js';

/** The upload notice stays a bounded mail whatever customers name their files (pure: no servers). */
const config = { hostname: 'mx.casedrop.test', intakeAddresses: ['attach@casedrop.test'], replyFrom: undefined };
const hostile = (i: number, kept: boolean): AdmittedFile => {
  const name = `${i}\r\nBcc: victim@example.com\r\n${'é'.repeat(240)}`;
  return {
    id: `cases/612345678/files/F${i}`,
    fileId: `F${i}`,
    caseNumber: '612345678',
    originalName: name,
    storedName: kept ? `${name} (2)` : '',
    size: 2 ** 40,
    sha256: 'c'.repeat(64),
    format: 'unknown',
    verdict: 'reject',
    reason: 'not-an-archive',
    advice: 'x'.repeat(500),
    channel: 'ftps',
    tokenLabel: `label\r\n${'l'.repeat(300)}`,
    receivedAt: new Date(0).toISOString(),
    kept,
  };
};

describe('the upload notice', () => {
  it('lists at most MAX_UPLOADS_LISTED hostile files, counts the rest, stays under the reply bound, and keeps each name on its line', async () => {
    const files = Array.from({ length: MAX_UPLOADS_LISTED }, (_, i) => hostile(i, i % 2 === 0));
    const raw = await buildUploadNotice({ files, rest: 70 }, '612345678', 'eng@example.com', 'batch-upload-x-1', config).node.build();
    expect(raw.length).toBeLessThan(MAX_REPLY_BYTES);
    const mail = await simpleParser(raw);
    expect(mail.subject).toBe('Case 612345678: 120 files uploaded (50 refused)');
    expect(mail.headers.has('bcc')).toBe(false);
    expect(mail.text).toContain('and 70 more uploads');
    expect(mail.text).not.toMatch(/^Bcc:/im);
    expect(mail.text!.match(/^ {2}- /gm)).toHaveLength(MAX_UPLOADS_LISTED);
  });
});
