import { readFile } from 'node:fs/promises';
import type { Command } from 'commander';
import { verify } from '../../verify/index.js';
import type { IntakeKey, VerifyResult } from '../../verify/types.js';

/** A file the command could not read gets its own reason: it is about the path, not the policy. */
type FileVerdict = Omit<VerifyResult, 'reason'> & { reason: VerifyResult['reason'] | 'unreadable' };
import type { CliContext } from '../context.js';
import { ExitStatus } from '../context.js';

/**
 * `casedrop verify <file…>`: the intake policy on the command line, so a customer or an engineer can
 * check an archive before sending it. Needs no Redis and no config; exit 0 only when every file
 * would be accepted.
 */
export function registerVerifyCommands(program: Command, ctx: CliContext): void {
  program
    .command('verify <files...>')
    .description('tell whether each file would be accepted as an encrypted archive, and how to fix it if not')
    .option('--json', 'one JSON object per file, for machines')
    .option('--key <public.asc>', "casedrop's published OpenPGP public key: files encrypted to it are accepted")
    .action(async (files: string[], opts: { json?: boolean; key?: string }) => {
      const intakeKey: IntakeKey | undefined = opts.key ? { publicKeyArmored: await readFile(opts.key, 'utf8') } : undefined;
      let allAccepted = true;
      for (const file of files) {
        const result = await verifyFile(file, intakeKey);
        allAccepted &&= result.verdict === 'accept';
        ctx.out(opts.json ? JSON.stringify({ file, ...result }) : describe(file, result));
      }
      if (!allAccepted) throw new ExitStatus(1);
    });
}

async function verifyFile(path: string, intakeKey: IntakeKey | undefined): Promise<FileVerdict> {
  try {
    return await verify({ name: path, path }, { intakeKey });
  } catch (err) {
    // an unreadable file is a refusal the user can act on, not a crash
    const message = err instanceof Error ? err.message : String(err);
    return {
      format: 'unreadable',
      verdict: 'reject',
      reason: 'unreadable',
      details: { error: message },
      advice: 'Check the path and permissions of the file.',
    };
  }
}

function describe(file: string, r: FileVerdict): string {
  const head = `${file}: ${r.verdict === 'accept' ? 'ACCEPT' : 'REJECT'} ${r.format}${r.cipher ? ` (${r.cipher})` : ''} — ${r.reason}`;
  return r.verdict === 'accept' || !r.advice ? head : `${head}\n  fix: ${r.advice}`;
}
