/** A file of a case as purge and retention see it, wherever it lives (live store or archive). */
export interface CaseFile {
  /** object id, `cases/<n>/files/<name>` (the same in both stores) */
  id: string;
  location: 'live' | 'archive';
  storedName: string;
  originalName: string;
  size: number;
  sha256: string;
  spoolId?: string;
  receivedAt?: string;
  /** the object's format: 1 is wrapped under the master key, so older copies are not shredded */
  format: number;
  /** a resumed upload: the object is a manifest and these upload segments hold the content */
  parts?: string[];
}

export type RemovalKind = 'purge' | 'retention-delete';

/**
 * What a removal needs to finish after a crash, kept at `purges/<case>/<file name>` (master key,
 * outside the case: it must outlive the file's key) until every step is done.
 */
export interface PendingRemoval {
  kind: RemovalKind;
  caseNumber: string;
  file: CaseFile;
  requestedBy: string;
  operator: string;
  reason: string;
  requestedAt: string;
}
