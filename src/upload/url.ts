import type { Config } from '../config/schema.js';
import { trimTrailing } from '../text.js';

/**
 * Where customers upload, as replies and DSNs quote it: the configured public URL, else what the
 * listener serves (https with a certificate, plain http on loopback otherwise). Pure.
 */
export function uploadBaseUrl(
  config: Pick<Config, 'uploadHost' | 'uploadPort'> & Partial<Pick<Config, 'uploadPublicUrl' | 'uploadTlsCert' | 'uploadTlsKey'>>,
): string {
  if (config.uploadPublicUrl !== undefined) return trimTrailing(config.uploadPublicUrl, '/');
  const tls = config.uploadTlsCert !== undefined && config.uploadTlsKey !== undefined;
  const host = config.uploadHost.includes(':') ? `[${config.uploadHost}]` : config.uploadHost;
  return `${tls ? 'https' : 'http'}://${host}:${config.uploadPort}`;
}
