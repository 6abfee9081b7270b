import type { VerifyResult } from '../verify/types.js';

/**
 * "A file becomes part of a case" is the same act whatever door it came through: these types are
 * what every channel (email now, HTTPS and tus uploads, later SFTP/SCP/FTPS and the web page) hands
 * to src/intake/, and what it hands back.
 */
export const channels = ['email', 'https', 'tus', 'sftp', 'scp', 'ftps', 'web'] as const;
export type Channel = (typeof channels)[number];

export interface Arrival {
  caseNumber: string;
  channel: Channel;
  /** fixed per file: a retry with the same id rewrites the same object and gets the same stored name */
  fileId: string;
  /** the customer's name, before sanitising */
  originalName?: string;
  receivedAt: string;
  /** the upload token's label and id (never the token), for the engineer's file list */
  token?: { id: string; label: string };
  /** channel-specific facts kept with the file: sender and Message-ID for mail, client address for uploads */
  extra?: Record<string, unknown>;
}

/** What the case's file list says about one file, whatever the channel. */
export interface AdmittedFile {
  /** store object id, `cases/<n>/files/<fileId>` */
  id: string;
  fileId: string;
  caseNumber: string;
  originalName: string;
  storedName: string;
  size: number;
  sha256: string;
  format: string;
  cipher?: string;
  verdict: VerifyResult['verdict'];
  reason: string;
  advice: string;
  channel: Channel;
  tokenLabel?: string;
  receivedAt: string;
  /** false when the channel's policy refused the content and nothing was kept */
  kept: boolean;
}
