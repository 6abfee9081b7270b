import { fstatSync, mkdirSync, openSync, readFileSync, statSync, unlinkSync } from 'node:fs';
import { readdir, rm } from 'node:fs/promises';
import { createCipheriv, createDecipheriv, randomBytes } from 'node:crypto';
import { dirname, join, relative, sep } from 'node:path';
import { CasedropError, ErrorCode } from '../errors.js';
import { unlessMissing, writeSyncedAndClose } from '../store/quick-fs.js';
import { openPrivate, publishFile } from './create-once.js';
import { keyCheck, type KeyRing, type MasterKey } from './ring.js';

/**
 * The crypto-shredding key store: one random 256-bit key per shreddable object (every object of a
 * case), kept apart from the objects, in its own directory (`CASEDROP_KEYSTORE_DIR`), each key
 * wrapped under a master key. An object of format 2 carries its data key wrapped under this key, not
 * under the master key, so destroying the entry makes every copy of the object (live, in a copy of the
 * data dir, in a backup of it) undecryptable even with the master key.
 *
 * Entry file `<dir>/<object id>.key`: "CDKS", version 1, id length, master key id, key check (8),
 * nonce (12), AES-256-GCM(master, key) 32 + tag 16. The AAD binds the master key id and object id,
 * so an entry copied under another object's name does not unwrap.
 */
export interface ShredKey {
  readonly key: Buffer;
  readonly check: Buffer;
}

const MAGIC = Buffer.from('CDKS', 'latin1');
const SUFFIX = '.key';
const KEY_BYTES = 32;
const TAG = 16;

export class ShredKeyStore {
  private readonly knownDirs = new Set<string>();

  constructor(
    readonly dir: string,
    private readonly ring: KeyRing,
  ) {}

  /**
   * The object's key, made on first use. Two writers racing agree on one (link() refuses to replace).
   * Made first, read only when one exists already: almost every object is new (its name holds a
   * fresh spool id), so the usual path has no failed look-up; a retry pays a temp file instead.
   */
  async obtain(objectId: string): Promise<ShredKey> {
    const key = randomBytes(KEY_BYTES);
    const made = await this.writeEntry(objectId, this.seal(objectId, key, this.ring.active), false);
    return made ? toShredKey(key) : this.get(objectId);
  }

  /** KEY_DESTROYED when the object was purged (its key is gone): the one error a shredded object gives. */
  async get(objectId: string): Promise<ShredKey> {
    const found = await this.read(objectId);
    if (!found) {
      throw new CasedropError(
        ErrorCode.KeyDestroyed,
        `object ${objectId} cannot be decrypted: its key is not in the key store (the file was purged or deleted by retention, and cannot be recovered)`,
      );
    }
    return found;
  }

  async has(objectId: string): Promise<boolean> {
    return (await readLive(this.pathOf(objectId))) !== undefined;
  }

  /** When the entry was written (its file's mtime); undefined when there is none. */
  async writtenAt(objectId: string): Promise<Date | undefined> {
    return statSync(this.pathOf(objectId), { throwIfNoEntry: false })?.mtime;
  }

  /**
   * Overwrites then unlinks one key; true when there was one. Idempotent. The zeros are fsynced, the
   * unlink is not: a power loss may bring the name back, holding zeros, which reads as destroyed.
   */
  async destroy(objectId: string): Promise<boolean> {
    return shred(this.pathOf(objectId));
  }

  /** Destroys every key under a prefix such as `cases/612345678/`; returns how many. */
  async destroyUnder(prefix: string): Promise<number> {
    let n = 0;
    for (const id of await this.list(prefix)) if (await this.destroy(id)) n++;
    await rm(join(this.dir, ...prefix.split('/').filter(Boolean)), { recursive: true, force: true });
    this.knownDirs.clear();
    return n;
  }

  /** Object ids that have a key, under `prefix`, sorted. */
  async list(prefix = ''): Promise<string[]> {
    const found: string[] = [];
    await walk(this.dir, this.dir, found);
    return found.filter((id) => id.startsWith(prefix)).sort();
  }

  /** Re-wraps entries not under the active master key; returns how many changed. */
  async rewrap(): Promise<number> {
    let changed = 0;
    for (const id of await this.list()) {
      const raw = await readLive(this.pathOf(id));
      if (!raw) continue;
      const entry = decode(raw, id);
      if (entry.keyId === this.ring.active.id && entry.check.equals(this.ring.active.check)) continue;
      const key = this.unseal(id, entry);
      await this.writeEntry(id, this.seal(id, key, this.ring.active), true);
      changed++;
    }
    return changed;
  }

  pathOf(objectId: string): string {
    return join(this.dir, ...objectId.split('/')) + SUFFIX;
  }

  private async read(objectId: string): Promise<ShredKey | undefined> {
    const raw = await readLive(this.pathOf(objectId));
    return raw ? toShredKey(this.unseal(objectId, decode(raw, objectId))) : undefined;
  }

  private seal(objectId: string, key: Buffer, master: MasterKey): Buffer {
    const nonce = randomBytes(12);
    const c = createCipheriv('aes-256-gcm', master.key, nonce, { authTagLength: TAG });
    c.setAAD(aad(master.id, objectId));
    const sealed = Buffer.concat([c.update(key), c.final(), c.getAuthTag()]);
    const id = Buffer.from(master.id, 'latin1');
    return Buffer.concat([MAGIC, Buffer.from([1, id.length]), id, master.check, nonce, sealed]);
  }

  private unseal(objectId: string, e: Entry): Buffer {
    const master = this.ring.get(e.keyId);
    if (!master || !master.check.equals(e.check)) {
      throw new CasedropError(ErrorCode.KeyUnknown, `key store entry of ${objectId} is wrapped under master key "${e.keyId}", which is not configured`);
    }
    try {
      const d = createDecipheriv('aes-256-gcm', master.key, e.nonce, { authTagLength: TAG });
      d.setAAD(aad(master.id, objectId));
      d.setAuthTag(e.sealed.subarray(KEY_BYTES));
      return Buffer.concat([d.update(e.sealed.subarray(0, KEY_BYTES)), d.final()]);
    } catch (err) {
      throw new CasedropError(ErrorCode.ObjectCorrupt, `key store entry of ${objectId} is corrupt`, { cause: err });
    }
  }

  /** A new temp file; its directory is made once per process (a key per object, few directories). */
  private createTemp(temp: string): number {
    const dir = dirname(temp);
    if (!this.knownDirs.has(dir)) {
      mkdirSync(dir, { recursive: true, mode: 0o700 });
      this.knownDirs.add(dir);
    }
    try {
      return openPrivate(temp);
    } catch (err) {
      // removed since (destroyUnder, here or in another process): make it again
      if ((err as NodeJS.ErrnoException).code !== 'ENOENT') throw err;
      mkdirSync(dir, { recursive: true, mode: 0o700 });
      return openPrivate(temp);
    }
  }

  /** Durable before it is visible (publishFile); false when an entry is there already and `replace` is not set. */
  private writeEntry(objectId: string, bytes: Buffer, replace: boolean): Promise<boolean> {
    return publishFile(this.pathOf(objectId), bytes, { replace, openTemp: (temp) => this.createTemp(temp) });
  }
}

interface Entry {
  keyId: string;
  check: Buffer;
  nonce: Buffer;
  sealed: Buffer;
}

function decode(raw: Buffer, objectId: string): Entry {
  const idLen = raw.length > 5 ? raw.readUInt8(5) : 0;
  if (!raw.subarray(0, 4).equals(MAGIC) || raw[4] !== 1 || raw.length !== 6 + idLen + 8 + 12 + KEY_BYTES + TAG) {
    throw new CasedropError(ErrorCode.ObjectCorrupt, `key store entry of ${objectId} is not a casedrop key`);
  }
  let at = 6;
  const take = (n: number) => raw.subarray(at, (at += n));
  return { keyId: take(idLen).toString('latin1'), check: take(8), nonce: take(12), sealed: take(KEY_BYTES + TAG) };
}

function aad(masterId: string, objectId: string): Buffer {
  return Buffer.from(`casedrop/shred-key\0${masterId}\0${objectId}`, 'utf8');
}

function toShredKey(key: Buffer): ShredKey {
  return { key, check: keyCheck(key) };
}

/** The entry's bytes; undefined when there is none or it was destroyed (all zeros: see shred). */
async function readLive(path: string): Promise<Buffer | undefined> {
  const raw = unlessMissing(() => readFileSync(path), undefined);
  return raw === undefined || isZeroed(raw) ? undefined : raw;
}

const isZeroed = (raw: Buffer): boolean => raw.every((b) => b === 0);

/**
 * Overwrite with zeros and fsync before unlinking, so a plain file system does not keep the wrapped
 * key in a free block. Copy-on-write file systems and SSD wear levelling may still keep old blocks:
 * the README says to keep the key store on a volume whose snapshots expire with its backups.
 *
 * The fsync of the zeros is what destroys the key durably; the unlink after it is tidying, so its
 * directory is not fsynced: a name that a power loss brings back holds zeros, which every reader
 * takes for a destroyed key (readLive), and a later destroy or the retention sweep removes it.
 */
async function shred(path: string): Promise<boolean> {
  const fd = unlessMissing(() => openSync(path, 'r+'), undefined);
  if (fd === undefined) return false;
  await writeSyncedAndClose(fd, Buffer.alloc(fstatSync(fd).size));
  unlessMissing(() => unlinkSync(path), undefined);
  return true;
}

async function walk(root: string, dir: string, found: string[]): Promise<void> {
  const entries = await readdir(dir, { withFileTypes: true }).catch(() => []);
  for (const e of entries) {
    const path = join(dir, e.name);
    if (e.isDirectory()) await walk(root, path, found);
    else if (e.isFile() && e.name.endsWith(SUFFIX)) found.push(relative(root, path).slice(0, -SUFFIX.length).split(sep).join('/'));
  }
}
