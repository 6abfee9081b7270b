import type { ReasonCode } from '../types.js';
import type { Finding } from '../advice.js';
import { FLAG_ENCRYPTED, FLAG_STRONG, METHOD_AES, entryName, type CentralEntry } from './central.js';
import { malformed } from '../common/malformed.js';
import { aesBits, type AesExtra } from './extra.js';

export type EntryKind = 'directory' | 'aes' | 'zipcrypto' | 'strong' | 'plain';

/** How one entry is protected, from its central header alone. Contradictions are refused. */
export function entryKind(entry: CentralEntry): EntryKind {
  const encrypted = (entry.flags & FLAG_ENCRYPTED) !== 0;
  if (entry.flags & FLAG_STRONG) return 'strong';
  if (entry.method === METHOD_AES && !entry.aes) malformed(`entry ${entry.index} uses method 99 (AES) without its 0x9901 extra field`);
  if (entry.aes && (entry.method !== METHOD_AES || !encrypted)) malformed(`entry ${entry.index} has a WinZip AES extra field but is not marked AES-encrypted`);
  if (entry.isDirectory) return 'directory';
  if (!encrypted) return 'plain';
  return entry.aes ? 'aes' : 'zipcrypto';
}

export interface ZipJudgement extends Finding {
  reason: ReasonCode;
}

/** The archive's verdict from every entry: one plain or ZipCrypto file is enough to refuse it. */
export function judgeEntries(entries: CentralEntry[]): ZipJudgement {
  const byKind = new Map<EntryKind, CentralEntry[]>();
  for (const entry of entries) {
    const kind = entryKind(entry);
    const list = byKind.get(kind);
    if (list) list.push(entry);
    else byKind.set(kind, [entry]);
  }
  const count = (kind: EntryKind): number => byKind.get(kind)?.length ?? 0;
  const plain = byKind.get('plain') ?? [];
  const files = entries.length - count('directory');
  const details = {
    entries: entries.length,
    files,
    directories: count('directory'),
    aes: count('aes'),
    zipcrypto: count('zipcrypto'),
    strong: count('strong'),
    plain: plain.length,
  };
  if (count('strong') > 0) return { reason: 'zip-strong-encryption', details };
  if (files === 0) return { reason: 'unencrypted', details, note: 'The zip holds no files.' };
  if (plain.length === files) return { reason: 'unencrypted', details };
  if (plain.length > 0) return { reason: 'partial-encryption', details: { ...details, plainFiles: names(plain) }, note: `Not encrypted: ${listNames(plain)}.` };
  if (count('zipcrypto') > 0) return { reason: 'weak-zipcrypto', details };
  return { reason: 'encrypted', details, cipher: aesCipher(byKind.get('aes')!.map((entry) => entry.aes!)) };
}

/** 'WinZip AES-256 (AE-2)'; an archive mixing variants lists each, weakest first. */
export function aesCipher(variants: AesExtra[]): string {
  const sorted = [...variants].sort((a, b) => a.strength - b.strength || a.vendorVersion - b.vendorVersion);
  const labels = sorted.map((aes) => `WinZip AES-${aesBits(aes)} (AE-${aes.vendorVersion})`);
  return [...new Set(labels)].join(', ');
}

const NAMES_SHOWN = 5;

function names(entries: CentralEntry[]): string[] {
  return entries.slice(0, NAMES_SHOWN).map(entryName);
}

function listNames(entries: CentralEntry[]): string {
  const more = entries.length - NAMES_SHOWN;
  return names(entries).join(', ') + (more > 0 ? ` and ${more} more` : '');
}
