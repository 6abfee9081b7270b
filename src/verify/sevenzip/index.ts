import type { Detector } from '../common/detector.js';
import { SIGNATURE, readHeaderView } from './header.js';
import { judgeHeader } from './judge.js';
import { checkSevenZipMap } from './map.js';

/**
 * 7z: encryption is per folder (a solid block of files), so every folder must have the AES-256
 * coder with enough key-derivation rounds; with -mhe=on the header itself is encrypted. An archive
 * that would be accepted is then mapped byte by byte and its encrypted streams tested (map.ts).
 */
export const sevenZipDetector: Detector = {
  format: '7z',
  recognises: (head) => head.subarray(0, 6).equals(SIGNATURE),
  async verify(source) {
    const view = await readHeaderView(source);
    const result = judgeHeader(view);
    if (result.reason !== 'encrypted' || view.kind === 'empty') return result;
    return { ...result, details: { ...result.details, ...(await checkSevenZipMap(source, view)) } };
  },
};
