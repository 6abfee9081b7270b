import type { Cursor } from './cursor.js';

/**
 * The files' properties in a 7z header (7zFormat.txt, FilesInfo): each is an id, a size and that
 * many bytes. Names, times, attributes and the empty/anti bit vectors have a fixed meaning; the
 * filler 7-Zip writes to align them (kDummy) must be zeros; a comment, a start position or an id no
 * one defines is text or bytes nobody checks. Returns what the byte map would refuse.
 */
const Prop = { EmptyStream: 0x0e, EmptyFile: 0x0f, Anti: 0x10, Names: 0x11, CTime: 0x12, ATime: 0x13, MTime: 0x14, Attributes: 0x15, Dummy: 0x19 } as const;
const KNOWN: ReadonlySet<number> = new Set(Object.values(Prop));
const NAMES: Readonly<Record<number, string>> = { 0x16: 'a comment', 0x18: 'start positions' };
/** 7-Zip pads to 8-byte alignment; more filler than that has no reason to exist */
const DUMMY_MAX = 64;

export function checkFilesInfo(cursor: Cursor): string[] {
  const problems: string[] = [];
  cursor.count(); // number of files
  for (let id = cursor.byte(); id !== 0; id = cursor.byte()) {
    const data = cursor.take(cursor.count());
    if (id === Prop.Dummy) {
      if (data.length > DUMMY_MAX || data.some((byte) => byte !== 0)) problems.push(`filler (kDummy) of ${data.length} bytes that are not all zeros`);
    } else if (!KNOWN.has(id)) {
      problems.push(`a file property holding ${NAMES[id] ?? `unknown data (id 0x${id.toString(16)})`}, ${data.length} bytes`);
    }
  }
  return problems;
}
