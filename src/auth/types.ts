/**
 * What casedrop records about a sender's authentication: a compact, JSON-safe digest of mailauth's
 * answer, kept with the outcome and each stored file. `header` is the Authentication-Results field
 * (RFC 8601) as mailauth wrote it.
 */
export type AuthResultValue = 'pass' | 'fail' | 'softfail' | 'neutral' | 'none' | 'temperror' | 'permerror' | 'policy' | 'skipped' | string;

export interface DkimSignature {
  domain: string;
  result: AuthResultValue;
  /** aligned with the From header's domain (DMARC sense) */
  aligned: boolean;
}

export interface SenderAuth {
  spf: { result: AuthResultValue; domain?: string };
  dkim: DkimSignature[];
  dmarc: { result: AuthResultValue; domain?: string; policy?: string };
  arc: { result: AuthResultValue };
  /** the From header's domain, as DMARC saw it */
  headerFromDomain?: string;
  clientAddress: string;
  heloName?: string;
  /** the client is in CASEDROP_AUTH_TRUSTED_NETWORKS */
  trustedNetwork: boolean;
  /** `Authentication-Results: host; spf=…; dkim=…; dmarc=…; arc=…` */
  header: string;
}
