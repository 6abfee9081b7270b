import { CasedropError, ErrorCode } from '../errors.js';
import { caseNotesNamespace } from '../jobs/ids.js';
import { redisKey } from '../redis-keys.js';
import { caseFiles } from './files.js';
import { removalNoteName } from './note.js';
import { removeFile, resumeRemovals, type RemovalDeps } from './remove.js';
import type { CaseFile, PendingRemoval } from './types.js';

export interface PurgeRequest {
  caseNumber: string;
  /** stored names (or object names), or every file and message text of the case */
  files: readonly string[] | 'all';
  requestedBy: string;
  operator: string;
  reason: string;
  now: Date;
}

export interface PurgeResult {
  /** removals a killed earlier run left, finished now */
  resumed: PendingRemoval[];
  removed: PendingRemoval[];
  /** message texts (notes) shredded by --all */
  notes: number;
}

/**
 * `casedrop case purge`: finishes what a killed run left, checks every name before touching
 * anything (a typo purges nothing), then removes each file for good.
 */
export async function purgeFiles(req: PurgeRequest, deps: RemovalDeps): Promise<PurgeResult> {
  const resumed = await resumeRemovals(deps, req.caseNumber);
  const files = await caseFiles(deps, req.caseNumber);
  const targets = req.files === 'all' ? files : pick(files, req.files, resumed, req.caseNumber);
  const removed: PendingRemoval[] = [];
  for (const file of targets) {
    const r: PendingRemoval = {
      kind: 'purge',
      caseNumber: req.caseNumber,
      file,
      requestedBy: req.requestedBy,
      operator: req.operator,
      reason: req.reason,
      requestedAt: req.now.toISOString(),
    };
    await removeFile(r, deps);
    removed.push(r);
  }
  const notes = req.files === 'all' ? await shredMessageTexts(req.caseNumber, deps) : 0;
  if (notes > 0) {
    const details = { requestedBy: req.requestedBy, notes };
    await deps.audit.append(req.caseNumber, {
      type: 'purged',
      actor: req.operator,
      channel: 'cli',
      file: { storedName: '(message texts)' },
      reason: req.reason,
      details,
    });
  }
  if (req.files === 'all') {
    const n = req.caseNumber;
    await deps.redis.del(redisKey.caseNamesByFile(deps.prefix, n), redisKey.caseNamesByName(deps.prefix, n), redisKey.caseNamesNext(deps.prefix, n));
  }
  return { resumed, removed, notes };
}

function pick(files: CaseFile[], names: readonly string[], resumed: PendingRemoval[], caseNumber: string): CaseFile[] {
  const picked: CaseFile[] = [];
  const missing: string[] = [];
  for (const name of new Set(names)) {
    const found = files.find((f) => f.storedName === name) ?? files.find((f) => f.id.endsWith(`/${name}`));
    if (found) picked.push(found);
    else if (!resumed.some((r) => r.file.storedName === name)) missing.push(name);
  }
  if (missing.length > 0) {
    throw new CasedropError(
      ErrorCode.FileNotFound,
      `case ${caseNumber} has no file ${missing.map((m) => `"${m}"`).join(', ')}; nothing was purged (see casedrop case files ${caseNumber}; earlier purges are in casedrop case audit ${caseNumber})`,
    );
  }
  return picked;
}

/** The case's message texts go with --all; the removal notes stay (they are the record). */
async function shredMessageTexts(caseNumber: string, deps: RemovalDeps): Promise<number> {
  let n = 0;
  for (const id of await deps.live.list(`${caseNotesNamespace(caseNumber)}/`)) {
    if (id.slice(id.lastIndexOf('/') + 1).startsWith(removalNoteName(''))) continue;
    await deps.live.shredObject(id);
    await deps.archive.shredObject(id);
    n++;
  }
  for (const id of await deps.archive.list(`${caseNotesNamespace(caseNumber)}/`)) {
    if (id.slice(id.lastIndexOf('/') + 1).startsWith(removalNoteName(''))) continue;
    await deps.archive.shredObject(id);
    n++;
  }
  return n;
}
