import type { Detector } from '../common/detector.js';
import { SIGNATURE, readHeaderView } from './header.js';
import { judgeHeader } from './judge.js';

/**
 * 7z: encryption is per folder (a solid block of files), so every folder must have the AES-256
 * coder; with -mhe=on the header itself is encrypted and so is everything it describes.
 */
export const sevenZipDetector: Detector = {
  format: '7z',
  recognises: (head) => head.subarray(0, 6).equals(SIGNATURE),
  verify: async (source) => judgeHeader(await readHeaderView(source)),
};
