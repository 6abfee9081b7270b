import { readFile } from 'node:fs/promises';
import type { Config } from '../config/schema.js';
import type { IntakeKey, VerifyInput, VerifyResult } from '../verify/types.js';

/** Reads casedrop's published OpenPGP key pair (when configured) once, at start. */
export async function loadIntakeKey(
  config: Pick<Config, 'pgpPublicKeyFile' | 'pgpPrivateKeyFile' | 'pgpPrivateKeyPassphrase'>,
): Promise<IntakeKey | undefined> {
  if (!config.pgpPublicKeyFile) return undefined;
  const publicKeyArmored = await readFile(config.pgpPublicKeyFile, 'utf8');
  const privateKeyArmored = config.pgpPrivateKeyFile ? await readFile(config.pgpPrivateKeyFile, 'utf8') : undefined;
  return { publicKeyArmored, privateKeyArmored, passphrase: config.pgpPrivateKeyPassphrase };
}

/**
 * The verifier the intake worker uses: `verify` with the configured intake key bound in. The
 * verifiers (OpenPGP among them) are loaded at the first call: a worker whose parse threads judge
 * the mail never loads them in its main thread.
 */
export async function intakeVerifier(config: Parameters<typeof loadIntakeKey>[0]): Promise<(input: VerifyInput) => Promise<VerifyResult>> {
  const intakeKey = await loadIntakeKey(config);
  let loaded: Promise<typeof import('../verify/index.js')> | undefined;
  return async (input) => {
    loaded ??= import('../verify/index.js');
    return (await loaded).verify(input, { intakeKey });
  };
}
