import { createHash, randomBytes } from 'node:crypto';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { readUploadEvent } from '../../src/upload/events.js';
import { sftpBatch, startHarness, type Harness } from './harness.js';

describe("an SFTP upload has the HTTPS door's signed receipt and webhook event", () => {
  let h: Harness;
  beforeAll(async () => {
    h = await startHarness({ CASEDROP_WEBHOOK_URLS: 'http://127.0.0.1:9/hook', CASEDROP_WEBHOOK_SECRET: 'whsec-test' });
  });
  afterAll(() => h.close());

  it('queues upload.completed with the signed receipt of what was stored', async () => {
    const content = randomBytes(200_000);
    writeFileSync(join(h.dir, 'trace.pcap'), content);
    const r = await sftpBatch(h, 'put trace.pcap\n');
    expect(r.code, r.stderr).toBe(0);
    const ids = await h.store.list('upload-events/');
    const events = await Promise.all(ids.map((id) => readUploadEvent(h.store, id.slice(id.indexOf('/') + 1))));
    const completed = events.filter((e) => e.event === 'upload.completed');
    expect(completed).toHaveLength(1);
    expect(completed[0]).toMatchObject({
      case: '612345678',
      receipt: { name: 'trace.pcap', channel: 'sftp', tokenLabel: 'router-1', size: 200_000, sha256: createHash('sha256').update(content).digest('hex') },
    });
    expect(String((completed[0] as { receipt: { signature?: string } }).receipt.signature)).toMatch(/^eyJ[\w-]+\.[\w-]+\.[\w-]+$/);
  });
});
