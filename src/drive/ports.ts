/**
 * What the device doors (SFTP, SCP, FTPS) need from the rest of casedrop, and nothing more: who
 * may log in, and where an upload's bytes go. The doors speak their protocols against these two
 * ports only, so the token store, the brute-force limits and the one intake path can change
 * behind them without touching protocol code.
 */
import type { KeyOffer } from '../cases/ssh-key-rules.js';

export type DeviceChannel = 'sftp' | 'scp' | 'ftps';

export interface DriveLogin {
  caseNumber: string;
  /** the upload token's (or SSH key's) id and label (never the token itself) */
  token: { id: string; label: string };
  clientAddress: string;
  /** the asked-for channels this token allows (one SSH login serves both SFTP and SCP) */
  channels: DeviceChannel[];
  /** bytes the token may still upload, when it has a cap */
  quotaBytes?: number;
}

export type AuthResult =
  | { ok: true; login: DriveLogin }
  /** `limited`: too many failures from this address or for this case; `retryAfterSeconds` says for how long */
  | { ok: false; why: 'invalid' | 'limited'; retryAfterSeconds?: number };

export interface AuthPort {
  /** username is the case number, password an upload token allowed on at least one of `channels` */
  login(caseNumber: string, password: string, channels: DeviceChannel[], clientAddress: string): Promise<AuthResult>;
}

/** SSH public-key logins (SFTP/SCP only): the case's registered keys, under the same failed-login limits. */
export interface KeyAuthPort {
  /**
   * Unsigned: whether this key may log in (OpenSSH asks before it signs); not a failure when not,
   * as clients offer every key they hold. Signed: the login, once the signature checks.
   */
  loginWithKey(caseNumber: string, offer: KeyOffer, clientAddress: string): Promise<AuthResult>;
  /** a connection that offered only refused keys and never logged in counts as one failed login */
  keysRefused(caseNumber: string, clientAddress: string): Promise<void>;
}

/** One of this token's uploads, as a directory listing shows it. */
export interface UploadEntry {
  name: string;
  size: number;
  /** partial: resumable; stored: finalised into the case */
  state: 'partial' | 'stored';
  modifiedAt: Date;
}

/** What the case now holds after an upload was finalised. */
export interface FinishedUpload {
  storedName: string;
  /** false when the channel's policy keeps only encrypted archives and this was not one: nothing was kept */
  size: number;
  sha256: string;
  verdict: string;
  reason: string;
  kept: boolean;
  /** what to do about a refused content */
  advice: string;
}

/**
 * An open upload takes bytes strictly in order from `offset`: the doors reassemble out-of-order
 * writes before they get here. `suspend` keeps what arrived for a later resume (a dropped
 * connection); `finish` hands the whole file to the intake path.
 */
export interface OpenUpload {
  readonly name: string;
  readonly offset: number;
  write(chunk: Buffer): Promise<void>;
  suspend(): Promise<void>;
  /** `asName`: finalise under another name (a rename of a just-written temporary upload) */
  finish(asName?: string): Promise<FinishedUpload>;
}

export interface UploadSink {
  /** this login's uploads only, never other files of the case */
  list(login: DriveLogin): Promise<UploadEntry[]>;
  stat(login: DriveLogin, name: string): Promise<UploadEntry | undefined>;
  /** `resume`: continue this login's partial upload of that name (from offset 0 if there is none) */
  open(login: DriveLogin, name: string, channel: DeviceChannel, mode: 'new' | 'resume'): Promise<OpenUpload>;
}
