import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { createHash } from 'node:crypto';
import { readdir, readFile, utimes, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { Config } from '../../src/config/schema.js';
import { ErrorCode } from '../../src/errors.js';
import type { BlobBackend, BlobWriter } from '../../src/store/backend.js';
import { dirSyncsBegun, FsBlobBackend } from '../../src/store/fs-backend.js';
import { isStaleTemp, STALE_TEMP_AGE_MS, thisHost } from '../../src/store/fs-temp.js';
import { testConfig } from '../helpers/env.js';
import { randomSource, readAll, storeWith } from './helpers.js';

let env: { config: Config; cleanup: () => Promise<void> };
let backend: FsBlobBackend;
beforeEach(async () => {
  env = testConfig();
  backend = new FsBlobBackend(env.config.dataDir);
  await backend.init();
});
afterEach(() => env.cleanup());

const temps = () => readdir(backend.tempDir);

describe('temp files', () => {
  it('a write in progress is invisible; a committed one appears whole', async () => {
    const w = await backend.createWriteTemp();
    await w.write([Buffer.from('partial')]);
    expect(await backend.exists('spool/x')).toBe(false);
    expect(await backend.list('')).toEqual([]);
    await w.commit('spool/x');
    expect(await backend.list('')).toEqual(['spool/x']);
    expect(await temps()).toEqual([]);
  });

  it('init removes temps of crashed writers but keeps those of live ones', async () => {
    const live = await backend.createWriteTemp();
    await live.write([Buffer.from('still writing')]);
    const deadPid = `${thisHost}.999999999.00aa.part`;
    const ownOldIncarnation = `${thisHost}.${process.pid}.11bb.part`;
    const otherHostFresh = 'elsewhere.1.22cc.part';
    const otherHostOld = 'elsewhere.2.33dd.part';
    for (const n of [deadPid, ownOldIncarnation, otherHostFresh, otherHostOld]) await writeFile(join(backend.tempDir, n), 'x');
    const old = new Date(Date.now() - STALE_TEMP_AGE_MS - 60_000);
    await utimes(join(backend.tempDir, otherHostOld), old, old);

    await new FsBlobBackend(env.config.dataDir).init();
    const left = await temps();
    expect(left).toContain(otherHostFresh);
    expect(left).not.toContain(deadPid);
    expect(left).not.toContain(ownOldIncarnation);
    expect(left).not.toContain(otherHostOld);
    expect(left).toHaveLength(2); // the live writer's temp survives
    await live.commit('spool/live');
    expect(await backend.exists('spool/live')).toBe(true);
  });

  it('isStaleTemp decides from owner, liveness and age', () => {
    const here = { host: 'h', pid: 10, now: 1e9, inFlight: new Set(['h.10.aa.part']), isAlive: (p: number) => p === 11 };
    const t = (name: string, age = 0) => isStaleTemp({ name, mtimeMs: here.now - age }, here);
    expect(t('h.10.aa.part', STALE_TEMP_AGE_MS * 2)).toBe(false);
    expect(t('h.10.bb.part')).toBe(true);
    expect(t('h.11.bb.part')).toBe(false);
    expect(t('h.12.bb.part')).toBe(true);
    expect(t('o.12.bb.part')).toBe(false);
    expect(t('o.12.bb.part', STALE_TEMP_AGE_MS + 1)).toBe(true);
    expect(t('junk')).toBe(false);
  });

  it('a body that fails mid-stream leaves no temp and no object', async () => {
    const store = storeWith(env.config, env.config.masterKeys, backend);
    async function* failing() {
      yield Buffer.alloc(200_000, 1);
      throw new Error('client went away');
    }
    await expect(store.put('spool', failing(), {}, { name: 'x' })).rejects.toThrow('client went away');
    expect(await temps()).toEqual([]);
    expect(await store.exists('spool/x')).toBe(false);
  });
});

describe('overlapping writes', () => {
  it('writes issued before the previous ones settled land in call order', async () => {
    const w = await backend.createWriteTemp();
    // sizes that differ, so a piece out of place also shifts every byte after it
    const pieces = Array.from({ length: 64 }, (_, i) => Buffer.alloc(64 * 1024 + i * 977, i));
    await Promise.all(pieces.map((p) => w.write([p.subarray(0, 1000), p.subarray(1000)])));
    await w.commit('spool/ordered');
    expect((await readFile(backend.pathOf('spool/ordered'))).equals(Buffer.concat(pieces))).toBe(true);
  });

  it('the object writer keeps up to two batches in flight, and the object reads back whole', async () => {
    let running = 0;
    let most = 0;
    class SlowWrites extends FsBlobBackend {
      override async createWriteTemp(): Promise<BlobWriter> {
        const real = await super.createWriteTemp();
        return {
          write: async (chunks) => {
            most = Math.max(most, ++running);
            await new Promise((resolve) => setTimeout(resolve, 5));
            await real.write(chunks);
            running--;
          },
          commit: (key, options) => real.commit(key, options),
          abort: () => real.abort(),
        };
      }
    }
    const slowWrites = new SlowWrites(env.config.dataDir);
    const store = storeWith(env.config, env.config.masterKeys, slowWrites);
    const src = randomSource(12 * 1024 * 1024, [1 << 20]);
    const put = await store.put('spool', src.stream, {});
    expect(most).toBe(2);
    expect(put.sha256).toBe(src.digest());
    expect(
      createHash('sha256')
        .update(await readAll(store, put.id))
        .digest('hex'),
    ).toBe(put.sha256);
  });
});

describe('namespace directories', () => {
  it('are made once, and made again when removed behind the backend', async () => {
    const put = async (key: string, body: string) => {
      const w = await backend.createWriteTemp();
      await w.write([Buffer.from(body)]);
      return w.commit(key);
    };
    expect(await put('cases/612345678/files/a', 'one')).toBe(true);
    rmSync(join(backend.root, 'cases'), { recursive: true, force: true });
    expect(await put('cases/612345678/files/b', 'two')).toBe(true);
    expect(await backend.exists('cases/612345678/files/b')).toBe(true);
  });
});

describe('directory fsyncs', () => {
  const put = async (key: string) => {
    const w = await backend.createWriteTemp();
    await w.write([Buffer.from('x')]);
    return w.commit(key);
  };
  const syncsDuring = async (fn: () => Promise<unknown>) => {
    const before = dirSyncsBegun.count;
    await fn();
    return dirSyncsBegun.count - before;
  };

  it('a commit fsyncs the namespace directory after the rename: the new name survives a power loss', async () => {
    await put('outcomes/a');
    expect(await syncsDuring(() => put('outcomes/b'))).toBe(1);
  });

  it('a delete fsyncs its directory (a purge survives a power loss), unless the caller accepts that the object may reappear', async () => {
    await put('spool/a');
    await put('spool/b');
    expect(await syncsDuring(() => backend.delete('spool/a'))).toBe(1);
    expect(await syncsDuring(() => backend.delete('spool/b', { mayReappear: true }))).toBe(0);
    expect(await backend.exists('spool/b')).toBe(false);
  });
});

describe('disk full', () => {
  it('ENOSPC during a write is STORAGE_FULL, and the temp file is removed', async () => {
    const full = new FullDiskBackend(backend, 1_200_000);
    const store = storeWith(env.config, env.config.masterKeys, full);
    await expect(store.put('spool', randomSource(3_000_000).stream, {})).rejects.toMatchObject({ code: ErrorCode.StorageFull });
    expect(full.wrote).toBeGreaterThan(0);
    expect(await temps()).toEqual([]);
    expect(await store.list('')).toEqual([]);
  });

  it('on a real full filesystem (tmpfs) too', async (ctx) => {
    const mnt = mkdtempSync(join(tmpdir(), 'casedrop-tmpfs-'));
    try {
      execFileSync('mount', ['-t', 'tmpfs', '-o', 'size=512k', 'tmpfs', mnt], { stdio: 'ignore' });
    } catch {
      rmSync(mnt, { recursive: true, force: true });
      ctx.skip(); // needs root and mount permission
      return;
    }
    try {
      const store = storeWith({ ...env.config, dataDir: mnt });
      await store.init();
      await expect(store.put('spool', randomSource(2_000_000).stream, {})).rejects.toMatchObject({ code: ErrorCode.StorageFull });
      expect(await readdir(join(mnt, 'objects', '.tmp'))).toEqual([]);
      // and the store still works once there is room
      const ok = await store.put('spool', Readable.from(['fits']), {});
      expect(await store.exists(ok.id)).toBe(true);
    } finally {
      execFileSync('umount', [mnt]);
      rmSync(mnt, { recursive: true, force: true });
    }
  });
});

/** The real backend, except that writes past `capacity` bytes fail like a full disk. */
class FullDiskBackend implements BlobBackend {
  wrote = 0;
  constructor(
    private readonly inner: FsBlobBackend,
    private readonly capacity: number,
  ) {}
  init = () => this.inner.init();
  openRead = (k: string) => this.inner.openRead(k);
  exists = (k: string) => this.inner.exists(k);
  list = (p: string) => this.inner.list(p);
  delete = (k: string) => this.inner.delete(k);
  names = (n: string) => this.inner.names(n);
  move = (f: string, t: string) => this.inner.move(f, t);
  async createWriteTemp(): Promise<BlobWriter> {
    const w = await this.inner.createWriteTemp();
    return {
      write: async (chunks) => {
        const n = chunks.reduce((s, c) => s + c.byteLength, 0);
        if (this.wrote + n > this.capacity) throw Object.assign(new Error('ENOSPC: no space left on device, write'), { code: 'ENOSPC' });
        this.wrote += n;
        await w.write(chunks);
      },
      commit: (k, o) => w.commit(k, o),
      abort: () => w.abort(),
    };
  }
}
