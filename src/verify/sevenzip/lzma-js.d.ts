// Typings for the `lzma` package (LZMA-JS), which ships none: only the synchronous decoder is used.
declare module 'lzma' {
  /**
   * Decodes an .lzma ("alone") stream: 5 property bytes, 8-byte little-endian size, data. Returns
   * the bytes, or a string when they happen to be valid UTF-8 without NUL.
   */
  export function decompress(data: Uint8Array | number[]): number[] | string;
  const lzma: { decompress: typeof decompress };
  export default lzma;
}
