import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startHarness, type Harness } from './harness.js';
import { cutAndResume } from './resume-scenario.js';

const MiB = 1 << 20;

describe('a dropped SFTP upload resumes with reput (1 GiB in the fault suite)', () => {
  let h: Harness;
  beforeAll(async () => {
    h = await startHarness();
  });
  afterAll(() => h.close());

  it('keeps what arrived, shows it to reput, and ends with the right SHA-256', async () => {
    const r = await cutAndResume(h, 24 * MiB, 6 * MiB);
    expect(r.cut.code).not.toBe(0);
    expect(r.listing.stdout).toMatch(/partial +upload +\d+ .* big\.bin/);
    expect(r.resumed.code, r.resumed.stderr).toBe(0);
    expect(r.resumedAt).toBeGreaterThanOrEqual(6 * MiB - 64 * 1024);
    expect(r.resumedAt).toBeLessThan(24 * MiB);
    expect(r.files.map((f) => [f.sha256, f.size])).toEqual([[r.sha256, 24 * MiB]]);
  }, 120_000);
});
