import { describe, expect, it } from 'vitest';
import { registry as metrics } from '../../src/metrics.js';
import { manifest, sendWithNodemailer, startDoor } from './door.js';

/** Case-number probing: counted per client address in Redis, tarpitted, then refused for a while. */
const probe = (n: number) => Buffer.from(`From: <p@example.com>\r\nTo: <attach@localhost>\r\nSubject: Case ${String(700000000 + n)}\r\n\r\nguess\r\n`);
const envelope = { from: 'p@example.com', to: 'attach@localhost' };

async function probeMetric(action: string): Promise<number> {
  const m = (await metrics.getSingleMetric('casedrop_smtp_probe_total')?.get())?.values.find((v) => v.labels.action === action);
  return m?.value ?? 0;
}

describe('case-number probing', () => {
  it('one mistyped number gets the helpful 550; many in the window are held back, then refused at MAIL with 421 4.7.0 until the window ends', async () => {
    const h = await startDoor({
      env: { CASEDROP_SMTP_PROBE_TARPIT_AFTER: '2', CASEDROP_SMTP_PROBE_BLOCK_AFTER: '3', CASEDROP_SMTP_PROBE_WINDOW_SECONDS: '600' },
    });
    const tarpitBefore = await probeMetric('tarpit');
    try {
      const first = await sendWithNodemailer(h.port, probe(1), envelope);
      expect(first.text).toBe('550 5.1.1 case 700000001 does not exist; check the number in the Subject or address');
      expect(h.logs.some((l) => l.event === 'smtp_probe')).toBe(false);
      // the second and third are still answered helpfully, but only after the tarpit delay
      for (const n of [2, 3]) expect((await sendWithNodemailer(h.port, probe(n), envelope)).code).toBe(550);
      expect((await h.logEvent('smtp_probe', 2)).count).toBe(3);
      expect((await probeMetric('tarpit')) - tarpitBefore).toBe(2);
      const blocked = await sendWithNodemailer(h.port, probe(4), envelope);
      expect(blocked.text).toBe('421 4.7.0 too many messages for unknown case numbers from your address; try again in 10 minutes');
      await h.logEvent('smtp_probe_blocked');
      // an existing case does not help either while blocked: the address is refused at MAIL
      const real = Buffer.from(`From: <p@example.com>\r\nTo: <attach@localhost>\r\nSubject: Case ${manifest.cases.open}\r\n\r\nx\r\n`);
      expect((await sendWithNodemailer(h.port, real, envelope)).code).toBe(421);
    } finally {
      await h.close();
    }
  }, 60_000);
});
