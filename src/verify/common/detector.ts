import type { ByteSource } from './source.js';
import type { VerifyOptions, VerifyResult } from '../types.js';

/** How many leading bytes every detector gets to recognise its format. */
export const HEAD_BYTES = 512;

/**
 * One container format. `recognises` looks only at the first bytes (magic numbers); `verify` then
 * reads what it needs from the source and must return a verdict for anything it recognised —
 * `corrupt` when the structure does not hold — and never throw for bad input.
 */
export interface Detector {
  readonly format: string;
  recognises(head: Buffer, size: number): boolean;
  verify(source: ByteSource, head: Buffer, options: VerifyOptions): Promise<VerifyResult>;
}
