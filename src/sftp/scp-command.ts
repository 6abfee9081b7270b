/**
 * Pure: what an `exec` request asks for. Legacy SCP (`scp -O`, network devices) runs
 * `scp -t [-r] [-p] [-d] [-v] [--] <target>` on the server to send files (sink side); `scp -f`
 * would read them and is refused like every other command.
 */
export type ExecRequest = { kind: 'sink'; target: string; recursive: boolean; targetIsDir: boolean } | { kind: 'download' } | { kind: 'other' };

const MAX_COMMAND = 8192;

export function parseExec(command: string): ExecRequest {
  if (command.length > MAX_COMMAND) return { kind: 'other' };
  const words = command.trim().split(/\s+/);
  if (words[0] !== 'scp') return { kind: 'other' };
  let sink = false;
  let download = false;
  let recursive = false;
  let targetIsDir = false;
  let i = 1;
  for (; i < words.length; i++) {
    const w = words[i]!;
    if (w === '--') {
      i++;
      break;
    }
    if (!w.startsWith('-')) break;
    for (const flag of w.slice(1)) {
      if (flag === 't') sink = true;
      else if (flag === 'f') download = true;
      else if (flag === 'r') recursive = true;
      else if (flag === 'd') targetIsDir = true;
    }
  }
  if (download) return { kind: 'download' };
  if (!sink) return { kind: 'other' };
  // the target is the rest of the line (OpenSSH quotes names with spaces: strip one level)
  const target = unquote(words.slice(i).join(' '));
  return { kind: 'sink', target, recursive, targetIsDir };
}

function unquote(s: string): string {
  if (s.length >= 2 && ((s.startsWith("'") && s.endsWith("'")) || (s.startsWith('"') && s.endsWith('"')))) return s.slice(1, -1);
  return s;
}

export type ScpRecord =
  | { kind: 'file'; mode: number; size: number; name: string }
  | { kind: 'dir'; mode: number; name: string }
  | { kind: 'end' }
  | { kind: 'time' }
  | { kind: 'bad'; why: string };

/** One control record of the legacy protocol (without its newline). */
export function parseRecord(line: string): ScpRecord {
  const type = line[0];
  if (type === 'E') return { kind: 'end' };
  if (type === 'T') return /^T\d+ \d+ \d+ \d+$/.test(line) ? { kind: 'time' } : { kind: 'bad', why: 'malformed T record' };
  if (type !== 'C' && type !== 'D') return { kind: 'bad', why: `unexpected record "${line.slice(0, 1)}"` };
  const m = /^[CD]([0-7]{4}) (\d{1,16}) (.+)$/s.exec(line);
  if (!m) return { kind: 'bad', why: 'malformed file record' };
  const mode = parseInt(m[1]!, 8);
  const size = Number(m[2]);
  if (!Number.isSafeInteger(size)) return { kind: 'bad', why: 'file size too large' };
  return type === 'C' ? { kind: 'file', mode, size, name: m[3]! } : { kind: 'dir', mode, name: m[3]! };
}
