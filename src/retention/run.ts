import { readParts } from '../intake/parts.js';
import type { CaseRegistry } from '../cases/types.js';
import { isCasedropError, ErrorCode } from '../errors.js';
import { caseFilesNamespace, caseNotesNamespace } from '../jobs/ids.js';
import { caseFiles } from '../purge/files.js';
import { removalNoteName } from '../purge/note.js';
import { removeFile, resumeRemovals, type RemovalDeps, type RemovalStep } from '../purge/remove.js';
import type { EncryptedStore } from '../store/store.js';
import type { Holds } from './holds.js';
import { ageDays, decideCase, isStaleStaging, type RetentionSettings } from './policy.js';
import type { StagingSource } from './staging.js';

export type RetentionStep = 'after-copy' | 'after-archive-audit' | 'after-live-removed' | 'after-staging';

export interface RetentionDeps extends Omit<RemovalDeps, 'checkpoint'> {
  registry: CaseRegistry;
  holds: Holds;
  staging: StagingSource[];
  settings: RetentionSettings;
  now: () => Date;
  /** who runs it, for notes and the audit trail */
  operator: string;
  checkpoint?: (step: RemovalStep | RetentionStep) => void;
}

export interface RetentionAction {
  kind: 'archive' | 'delete' | 'held' | 'staging';
  case?: string;
  /** object or staging item id */
  id: string;
  /** what a person recognises: the stored name, `(message text)`, or the staging source */
  name: string;
  why: string;
}

/** One line per action: the dry run prints exactly what the real run then does. */
export function formatAction(a: RetentionAction): string {
  // eslint-disable-next-line no-control-regex -- control characters are what this removes
  const shown = a.name.replace(/[\u0000-\u001f\u007f]/g, '?');
  return [a.kind, a.case ?? '-', shown, a.why].join('\t');
}

/**
 * The daily retention run (also `casedrop retention run`). It first finishes removals a killed run
 * left, then plans from the current state and carries each action out in steps that can be redone,
 * so running it again after a kill at any point converges: nothing twice, nothing skipped.
 */
export async function runRetention(deps: RetentionDeps, options: { dryRun: boolean }): Promise<RetentionAction[]> {
  if (!options.dryRun) await resumeRemovals(deps);
  const now = deps.now();
  const actions = [...(await planCases(deps, now)), ...(await planStaging(deps, now))];
  if (options.dryRun) return actions;
  for (const a of actions) await carryOut(a, deps);
  return actions;
}

async function planCases(deps: RetentionDeps, now: Date): Promise<RetentionAction[]> {
  const actions: RetentionAction[] = [];
  for (const c of await deps.registry.list('closed')) {
    const d = decideCase(c, await deps.holds.get(c.number), now, deps.settings);
    if (!d || d.decision === 'not-yet') continue;
    if (d.decision === 'held') {
      actions.push({ kind: 'held', case: c.number, id: '', name: '(whole case)', why: d.why });
      continue;
    }
    actions.push(...(d.action === 'archive' ? await archivable(deps, c.number, d.why) : await deletable(deps, c.number, d.why)));
  }
  return actions;
}

async function archivable(deps: RetentionDeps, caseNumber: string, why: string): Promise<RetentionAction[]> {
  const files = (await caseFiles(deps, caseNumber)).filter((f) => f.location === 'live');
  const notes = await deps.live.list(`${caseNotesNamespace(caseNumber)}/`);
  return [
    ...files.map((f) => ({ kind: 'archive' as const, case: caseNumber, id: f.id, name: f.storedName, why })),
    ...notes.map((id) => ({ kind: 'archive' as const, case: caseNumber, id, name: '(note)', why })),
  ];
}

async function deletable(deps: RetentionDeps, caseNumber: string, why: string): Promise<RetentionAction[]> {
  const files = await caseFiles(deps, caseNumber);
  const isText = (id: string) => !id.slice(id.lastIndexOf('/') + 1).startsWith(removalNoteName(''));
  const texts = new Set(
    [...(await deps.live.list(`${caseNotesNamespace(caseNumber)}/`)), ...(await deps.archive.list(`${caseNotesNamespace(caseNumber)}/`))].filter(isText),
  );
  return [
    ...files.map((f) => ({ kind: 'delete' as const, case: caseNumber, id: f.id, name: f.storedName, why })),
    ...[...texts].sort().map((id) => ({ kind: 'delete' as const, case: caseNumber, id, name: '(message text)', why })),
  ];
}

async function planStaging(deps: RetentionDeps, now: Date): Promise<RetentionAction[]> {
  const actions: RetentionAction[] = [];
  for (const source of deps.staging) {
    for (const item of await source.list()) {
      if (!isStaleStaging(item.createdAt, now, deps.settings.stagingDays)) continue;
      const why = `${ageDays(item.createdAt, now)} days old, staging keeps ${deps.settings.stagingDays} days`;
      actions.push({ kind: 'staging', ...(item.caseNumber ? { case: item.caseNumber } : {}), id: item.id, name: source.name, why });
    }
  }
  return actions;
}

async function carryOut(a: RetentionAction, deps: RetentionDeps): Promise<void> {
  if (a.kind === 'held') return;
  if (a.kind === 'staging') {
    const source = deps.staging.find((s) => s.name === a.name);
    await source?.remove({ source: a.name, id: a.id, createdAt: '', ...(a.case ? { caseNumber: a.case } : {}) });
    deps.checkpoint?.('after-staging');
    deps.logger.info({ source: a.name, id: a.id, event: 'staging_removed' }, 'stale staging item removed');
    return;
  }
  if (a.kind === 'archive') return archiveObject(a, deps);
  return deleteObject(a, deps);
}

/**
 * Copy into the archive (a fresh data key under the archive's own key, and master key), audit, then
 * shred the live copy. A copy already in the archive is not made again; the audit entry has a fixed id.
 */
async function archiveObject(a: RetentionAction, deps: RetentionDeps): Promise<void> {
  const caseNumber = a.case ?? '';
  const parts = await partsOf(deps.live, a.id);
  if (!(await readable(deps.archive, a.id))) {
    const info = await deps.live.head(a.id);
    const ns = a.id.slice(0, a.id.lastIndexOf('/'));
    // a resumed upload is archived as one object: the archive must not depend on live segments
    const { parts: _segments, ...meta } = info.meta;
    const body = parts ? readParts(deps.live, parts) : await deps.live.get(a.id);
    await deps.archive.put(ns, body, { ...meta, archivedAt: deps.now().toISOString() }, { name: a.id.slice(ns.length + 1) });
  }
  deps.checkpoint?.('after-copy');
  if (a.id.startsWith(`${caseFilesNamespace(caseNumber)}/`)) {
    const info = await deps.archive.head(a.id);
    const file = { id: a.id, storedName: a.name, size: info.size, sha256: info.sha256 };
    await deps.audit.append(caseNumber, { type: 'archived', actor: deps.operator, channel: 'retention', file, reason: a.why, eventId: `archived:${a.id}` });
  }
  deps.checkpoint?.('after-archive-audit');
  for (const part of parts ?? []) await deps.live.shredObject(part);
  await deps.live.shredObject(a.id);
  deps.checkpoint?.('after-live-removed');
}

async function deleteObject(a: RetentionAction, deps: RetentionDeps): Promise<void> {
  if (!a.id.startsWith(`${caseFilesNamespace(a.case ?? '')}/`)) {
    // a message text: shredded in both places, recorded by the case's file deletions
    await deps.live.shredObject(a.id);
    await deps.archive.shredObject(a.id);
    return;
  }
  const file = (await caseFiles(deps, a.case ?? '')).find((f) => f.id === a.id);
  if (!file) return; // finished by resumeRemovals, or removed meanwhile
  const r = {
    kind: 'retention-delete' as const,
    caseNumber: a.case ?? '',
    file,
    requestedBy: 'retention policy',
    operator: deps.operator,
    reason: a.why,
    requestedAt: deps.now().toISOString(),
  };
  await removeFile(r, deps);
}

/** The segments a resumed upload's manifest names; undefined for an ordinary object or one already gone. */
async function partsOf(store: EncryptedStore, id: string): Promise<string[] | undefined> {
  if (!(await readable(store, id))) return undefined;
  const m = (await store.head(id)).meta;
  return Array.isArray(m.parts) ? m.parts.map(String) : undefined;
}

async function readable(store: EncryptedStore, id: string): Promise<boolean> {
  try {
    await store.head(id);
    return true;
  } catch (err) {
    if (isCasedropError(err, ErrorCode.ObjectNotFound)) return false;
    throw err;
  }
}
