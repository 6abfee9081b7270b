import lzma from 'lzma';

/**
 * LZMA decoding of 7z's compressed header, through LZMA-JS. The caller bounds `size` first: the
 * decoder writes until it has `size` bytes (garbage input included), and holds them as a JS array.
 */
export function decodeLzma(properties: Buffer, packed: Buffer, size: number): Buffer {
  const alone = Buffer.alloc(13 + packed.length);
  properties.copy(alone, 0, 0, 5);
  alone.writeBigUInt64LE(BigInt(size), 5);
  packed.copy(alone, 13);
  const out = lzma.decompress(alone);
  // LZMA-JS returns a string when the output decodes as UTF-8; it is re-encoded losslessly then.
  return typeof out === 'string' ? Buffer.from(out, 'utf8') : Buffer.from(out);
}
