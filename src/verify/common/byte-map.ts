import type { ByteSource } from './source.js';
import { RandomnessMeter } from './randomness.js';

/**
 * The map of a whole file that a verdict stands on: every byte belongs to exactly one region, each a
 * structure of the format that is either encrypted payload (checked to look like ciphertext) or
 * metadata of known, bounded meaning (checked by the format's walker as it is read). Anything the
 * map does not cover — before the first structure, between two, after the last — refuses the file.
 */
export type RegionKind = 'encrypted' | 'metadata';

export interface Region {
  start: number;
  end: number;
  kind: RegionKind;
  /** where, for people: "the data of entry 2 (logs/app.log)" */
  what: string;
}

/** A finding that refuses a file on the map: its reason code, and the sentence that says where. */
export class MapRefusal extends Error {
  override readonly name = 'MapRefusal';
  constructor(
    readonly reason: 'unaccounted-bytes' | 'not-ciphertext' | 'plaintext-metadata' | 'weak-kdf',
    problem: string,
  ) {
    super(problem);
  }
}

export function refuse(reason: MapRefusal['reason'], problem: string): never {
  throw new MapRefusal(reason, problem);
}

export class ByteMap {
  private readonly regions: Region[] = [];

  add(start: number, end: number, kind: RegionKind, what: string): void {
    if (end > start) this.regions.push({ start, end, kind, what });
  }

  /**
   * Sorts the regions and checks they tile [0, size) exactly; returns them. Overlaps are the
   * walker's business (it refuses them as corrupt); a gap is data no structure accounts for.
   */
  close(size: number): Region[] {
    const sorted = [...this.regions].sort((a, b) => a.start - b.start);
    let at = 0;
    for (const region of sorted) {
      if (region.start > at) refuse('unaccounted-bytes', gapProblem(at, region.start, `before ${region.what}`));
      if (region.start < at) refuse('unaccounted-bytes', `${region.what} (bytes ${region.start}–${region.end - 1}) overlaps the structure before it`);
      at = region.end;
    }
    if (at < size) refuse('unaccounted-bytes', gapProblem(at, size, 'after the end of the archive'));
    return sorted;
  }
}

function gapProblem(start: number, end: number, where: string): string {
  return `${end - start} bytes at offsets ${start}–${end - 1}, ${where}, belong to no structure of the format`;
}

/** 1 MiB: few enough reads that their overhead is small next to the scan, and still bounded memory */
export const SCAN_CHUNK = 1024 * 1024;

/** Every encrypted region of the map read once, in 1 MiB pieces into one reused buffer, through the randomness test. */
export async function checkEncryptedRegions(source: ByteSource, regions: readonly Region[]): Promise<{ encryptedBytes: number }> {
  let encryptedBytes = 0;
  let scratch: Buffer | undefined;
  for (const region of regions) {
    if (region.kind !== 'encrypted') continue;
    encryptedBytes += region.end - region.start;
    scratch ??= Buffer.allocUnsafe(SCAN_CHUNK);
    const meter = new RandomnessMeter(region.start);
    for (let at = region.start; at < region.end && !meter.failed; at += SCAN_CHUNK)
      meter.push(await source.read(at, Math.min(SCAN_CHUNK, region.end - at), scratch));
    const failure = meter.finish();
    if (failure) refuse('not-ciphertext', `${region.what} is claimed encrypted but does not look like ciphertext: ${failure}`);
  }
  return { encryptedBytes };
}
