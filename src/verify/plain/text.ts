import { isUtf8 } from 'node:buffer';
const BASE64_LINE = /^[A-Za-z0-9+/]+={0,2}$/;

/** Text by its first bytes: UTF-8 (or a UTF-16 BOM) without control characters a log would not hold. */
export function textKind(head: Buffer, size: number): 'text' | 'base64' | undefined {
  if ((head[0] === 0xff && head[1] === 0xfe) || (head[0] === 0xfe && head[1] === 0xff)) return 'text'; // UTF-16 BOM
  // a sample cut inside a multi-byte character is still text: drop up to 3 trailing bytes
  const sample = head.length < size ? trimPartialUtf8(head) : head;
  if (!isUtf8(sample) || sample.some(isForeignControl)) return undefined;
  const lines = sample
    .toString('utf8')
    .split(/\r?\n/)
    .slice(0, head.length < size ? -1 : undefined)
    .filter((line) => line.length > 0);
  const base64 = lines.length > 0 && lines.every((line) => BASE64_LINE.test(line)) && lines.some((line) => line.length >= 40);
  return base64 ? 'base64' : 'text';
}

function isForeignControl(byte: number): boolean {
  // tab, line feed, vertical tab, form feed, carriage return and ESC (colours in logs) are text
  return (byte < 0x20 && ![0x09, 0x0a, 0x0b, 0x0c, 0x0d, 0x1b].includes(byte)) || byte === 0x7f;
}

function trimPartialUtf8(bytes: Buffer): Buffer {
  for (let cut = 0; cut <= 3 && cut < bytes.length; cut++) {
    const candidate = bytes.subarray(0, bytes.length - cut);
    if (isUtf8(candidate)) return candidate;
  }
  return bytes;
}
