/** How a refusal names a format found by content: "It is a PDF document." */
const DISPLAY: Record<string, string> = {
  pdf: 'a PDF document',
  png: 'a PNG image',
  jpeg: 'a JPEG image',
  gif: 'a GIF image',
  text: 'plain text',
  elf: 'an ELF program or core dump',
  'windows-executable': 'a Windows program',
  'ole-compound': 'an OLE2 compound file (e.g. an Office document)',
  openpgp: 'an OpenPGP file',
  'openssl-enc': 'an openssl enc file',
  xz: 'an xz file',
};

export function describe(format: string): string {
  return DISPLAY[format] ?? `a ${format} file`;
}
