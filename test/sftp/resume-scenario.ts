import { createHash, randomBytes } from 'node:crypto';
import { createWriteStream, readdirSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { vi } from 'vitest';
import { caseFiles, sftpBatch, type Harness, type Run } from './harness.js';

/**
 * A big upload over OpenSSH's sftp, its link cut (client killed) once part of it is in the
 * server's store, then resumed with `reput`: the case must end with exactly one file with the
 * right SHA-256. The client is throttled (sftp -l) only so the cut lands mid-way.
 */
export async function cutAndResume(h: Harness, sizeBytes: number, cutAfterBytes: number, limitKbits = 200_000, name = 'big.bin') {
  const path = join(h.dir, name);
  const sha256 = await writeRandom(path, sizeBytes);
  let pid = 0;
  const first = sftpBatch(h, `put ${name}\n`, { args: ['-l', String(limitKbits)], onSpawn: (p) => (pid = p) });
  await vi.waitFor(
    () => {
      if (tempBytes(h) < cutAfterBytes) throw new Error('not far enough yet');
    },
    { timeout: 600_000, interval: 20 },
  );
  process.kill(-pid, 'SIGKILL');
  const cut: Run = await first;
  await vi.waitFor(
    () => {
      if (!h.logLines.some((l) => l.includes('kept for resume'))) throw new Error('partial not kept yet');
    },
    { timeout: 60_000 },
  );
  const listing = await sftpBatch(h, 'ls -l\n');
  const resumed = await sftpBatch(h, `reput ${name}\n`);
  const files = (await caseFiles(h)).filter((f) => f.storedName === name);
  const opened = h.logLines.filter((l) => l.includes('"upload opened"')).map((l) => JSON.parse(l) as { mode: string; offset: number });
  return { sha256, cut, listing, resumed, files, resumedAt: opened.at(-1)?.offset ?? -1 };
}

function tempBytes(h: Harness): number {
  const dir = join(h.config.dataDir, 'objects', '.tmp');
  let total = 0;
  for (const f of readdirSync(dir)) total += statSync(join(dir, f), { throwIfNoEntry: false })?.size ?? 0;
  return total;
}

/** `size` random bytes written to `path` a MiB at a time (never the whole file in memory); returns their SHA-256. */
export async function writeRandom(path: string, size: number): Promise<string> {
  const hash = createHash('sha256');
  const out = createWriteStream(path);
  for (let left = size; left > 0;) {
    const chunk = randomBytes(Math.min(left, 1 << 20));
    hash.update(chunk);
    left -= chunk.length;
    if (!out.write(chunk)) await new Promise<void>((r) => out.once('drain', () => r()));
  }
  await new Promise<void>((resolve, reject) => out.end((err?: Error | null) => (err ? reject(err) : resolve())));
  return hash.digest('hex');
}
