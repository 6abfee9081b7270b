import { readFile } from 'node:fs/promises';
import type { Config } from '../config/schema.js';
import { verify } from '../verify/index.js';
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

/** The verifier the intake worker uses: `verify` with the configured intake key bound in. */
export async function intakeVerifier(config: Parameters<typeof loadIntakeKey>[0]): Promise<(input: VerifyInput) => Promise<VerifyResult>> {
  const intakeKey = await loadIntakeKey(config);
  return (input) => verify(input, { intakeKey });
}
