import { ByteMap, checkEncryptedRegions } from '../common/byte-map.js';
import { malformed } from '../common/malformed.js';
import type { ByteSource } from '../common/source.js';
import { AES_CODER, type HeaderView } from './header.js';
import type { StreamsInfo } from './streams.js';

const AES_BLOCK = 16;

/**
 * The byte map of a 7z about to be accepted: signature header, packed streams, the header's own
 * packed stream (if compressed or encrypted) and the header must tile the file. Every packed
 * stream of an encrypted folder must look like ciphertext. With an encrypted header (-mhe=on) the
 * data's layout is hidden, so everything between the signature header and the header's own packed
 * stream is claimed encrypted and tested as one region, and the encrypted header's packed size
 * must be what AES-CBC makes of the size it promises.
 */
export async function checkSevenZipMap(source: ByteSource, view: Exclude<HeaderView, { kind: 'empty' }>): Promise<Record<string, unknown>> {
  const map = new ByteMap();
  map.add(0, 32, 'metadata', 'the signature header');
  map.add(view.place.start, view.place.start + view.place.size, 'metadata', 'the header');
  if (view.kind === 'encrypted-header') {
    checkEncryptedHeaderSize(view.headerStreams);
    map.add(32, 32 + view.headerStreams.packPos, 'encrypted', 'the packed streams the encrypted header describes');
    addPacked(map, view.headerStreams, () => ['encrypted', 'the encrypted header']);
  } else {
    if (view.headerStreams) addPacked(map, view.headerStreams, () => ['metadata', 'the compressed header']);
    if (view.main) {
      const folderOf = streamFolders(view.main);
      addPacked(map, view.main, (i) => {
        const folder = view.main!.folders[folderOf[i]!];
        return [folder?.coders.some((coder) => coder.id === AES_CODER) ? 'encrypted' : 'metadata', `packed stream ${i} (of folder ${folderOf[i]})`];
      });
    }
  }
  const { encryptedBytes } = await checkEncryptedRegions(source, map.close(source.size));
  return { encryptedBytes, metadataBytes: source.size - encryptedBytes };
}

function addPacked(map: ByteMap, streams: StreamsInfo, kind: (index: number) => ['encrypted' | 'metadata', string]): void {
  let at = 32 + streams.packPos;
  streams.packSizes.forEach((size, i) => {
    const [k, what] = kind(i);
    map.add(at, at + size, k, what);
    at += size;
  });
}

/** Which folder reads each packed stream: folders take theirs in order. */
function streamFolders(streams: StreamsInfo): number[] {
  const out = streams.folders.flatMap((folder, f) => Array.from({ length: folder.packedStreams }, () => f));
  if (out.length !== streams.packSizes.length) malformed(`the folders read ${out.length} packed streams but ${streams.packSizes.length} are listed`);
  return out;
}

/** AES-CBC output is the input rounded up to whole 16-byte blocks. */
function checkEncryptedHeaderSize(streams: StreamsInfo): void {
  const folder = streams.folders[0]!;
  let out = 0;
  for (const coder of folder.coders) {
    if (coder.id === AES_CODER) {
      const promised = folder.unpackSizes[out]!;
      const packed = streams.packSizes[0]!;
      if (packed !== Math.ceil(promised / AES_BLOCK) * AES_BLOCK)
        malformed(`the encrypted header is ${packed} bytes, but AES makes ${Math.ceil(promised / AES_BLOCK) * AES_BLOCK} of the ${promised} it promises`);
      return;
    }
    out += coder.outStreams;
  }
}
