import { readFileSync } from 'node:fs';
import type { SMTPServerOptions } from 'smtp-server';
import type { Config } from '../config/schema.js';
import { CasedropError, ErrorCode } from '../errors.js';

/**
 * STARTTLS material. Without both a certificate and a key, STARTTLS is not offered at all: the
 * library's built-in certificate has a published private key and must never be presented.
 */
export type TlsMaterial = Pick<SMTPServerOptions, 'key' | 'cert' | 'minVersion'>;

export function loadTls(config: Pick<Config, 'smtpTlsCert' | 'smtpTlsKey' | 'smtpRequireTls'>): TlsMaterial | undefined {
  const { smtpTlsCert: certFile, smtpTlsKey: keyFile } = config;
  if (!certFile && !keyFile) {
    if (config.smtpRequireTls)
      throw new CasedropError(ErrorCode.ConfigInvalid, 'CASEDROP_SMTP_REQUIRE_TLS needs CASEDROP_SMTP_TLS_CERT and CASEDROP_SMTP_TLS_KEY');
    return undefined;
  }
  if (!certFile || !keyFile) throw new CasedropError(ErrorCode.ConfigInvalid, 'CASEDROP_SMTP_TLS_CERT and CASEDROP_SMTP_TLS_KEY go together');
  return { cert: read(certFile, 'CASEDROP_SMTP_TLS_CERT'), key: read(keyFile, 'CASEDROP_SMTP_TLS_KEY'), minVersion: 'TLSv1.2' };
}

function read(file: string, env: string): Buffer {
  try {
    return readFileSync(file);
  } catch (err) {
    throw new CasedropError(ErrorCode.ConfigInvalid, `${env}: cannot read ${file}`, { cause: err });
  }
}
