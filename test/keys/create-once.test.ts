import { constants, mkdtempSync, openSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { publishFile } from '../../src/keys/create-once.js';

let dir: string;
beforeEach(() => (dir = mkdtempSync(join(tmpdir(), 'casedrop-publish-'))));
afterEach(() => rmSync(dir, { recursive: true, force: true }));

describe('publishFile', () => {
  it('publishes once: a second publish of the same name changes nothing', async () => {
    const path = join(dir, 'k.key');
    expect(await publishFile(path, 'first')).toBe(true);
    expect(await publishFile(path, 'second')).toBe(false);
    expect(readdirSync(dir)).toEqual(['k.key']);
  });

  it('removes its temp file when the content cannot be written, and publishes nothing', async () => {
    // a temp the write must fail on, as on a full disk: opened read-only
    const readOnly = (temp: string) => openSync(temp, constants.O_RDONLY | constants.O_CREAT | constants.O_EXCL, 0o600);
    await expect(publishFile(join(dir, 'k.key'), 'key bytes', { openTemp: readOnly })).rejects.toThrow();
    expect(readdirSync(dir)).toEqual([]);
  });
});
