import { unarmor } from 'openpgp';
import type { ByteSource } from '../common/source.js';

/**
 * ASCII armor (RFC 9580 §6). The armor line says what the block is; only a "PGP MESSAGE" can be
 * encrypted. Its base64 is decoded by openpgp.js as a stream, so a large armored attachment is
 * never held in memory whole.
 */
const BEGIN = /^\s*-----BEGIN PGP ([A-Z ,/0-9]+)-----\r?\n/;

/** The armor type ('MESSAGE', 'SIGNED MESSAGE', 'PUBLIC KEY BLOCK' …) if the bytes start with armor. */
export function armorType(head: Buffer): string | undefined {
  return BEGIN.exec(head.toString('latin1'))?.[1];
}

/** openpgp's typings take a string; the implementation also takes a web stream of text. */
type StreamUnarmor = (input: ReadableStream<string>) => Promise<{ data: ReadableStream<Uint8Array> }>;

const CHUNK = 64 * 1024;

export async function unarmoredStream(source: ByteSource): Promise<ReadableStream<Uint8Array>> {
  let offset = 0;
  // Armor is ASCII; latin1 maps bytes to characters one to one, so chunks split anywhere.
  const text = new ReadableStream<string>({
    async pull(controller) {
      const chunk = await source.read(offset, CHUNK);
      offset += chunk.length;
      if (chunk.length === 0) controller.close();
      else controller.enqueue(chunk.toString('latin1'));
    },
  });
  const { data } = await (unarmor as unknown as StreamUnarmor)(text);
  return data;
}
