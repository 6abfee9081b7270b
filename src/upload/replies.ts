/**
 * Every refusal the upload listener gives, in one table: status, a stable code the JSON body
 * carries, and the sentence the customer reads (curl prints the body). Pure.
 */
export const uploadReplies = {
  'not-found': { status: 404, text: 'Upload a file with PUT /home/<file name> (or tus at /files/).' },
  method: { status: 405, text: 'Only PUT (and HEAD/PATCH to resume) is allowed on /home/<file name>.' },
  'bad-name': { status: 400, text: '{why}' },
  'bad-digest': { status: 400, text: 'Content-Digest and Repr-Digest must carry sha-256=:<base64 of 32 bytes>:.' },
  'bad-length': { status: 400, text: 'Content-Length must be a number of bytes.' },
  'auth-required': {
    status: 401,
    text: 'Log in with the case number as user name and an upload token as password (curl --user <case>:<token>); the case engineer gives you a token.',
  },
  'auth-failed': { status: 401, text: 'The case number or the upload token is wrong, the token expired or was revoked, or the case is closed.' },
  'channel-not-allowed': { status: 403, text: 'This upload token is not valid for HTTPS uploads.' },
  'file-too-big': { status: 413, text: 'The file is larger than the limit of {limit} bytes per file.' },
  'case-full': { status: 413, text: 'The case would hold more than its limit of {limit} uploaded bytes; ask support.' },
  'token-quota': { status: 413, text: 'This upload token may upload {limit} more bytes; ask support for another token.' },
  'no-upload': { status: 404, text: 'No unfinished upload of that name for this token: start it with PUT.' },
  'offset-mismatch': { status: 409, text: 'The upload is at offset {offset}: send Upload-Offset: {offset} and the bytes from there (HEAD tells the offset).' },
  'upload-locked': { status: 423, text: 'Another request is appending to this upload; try again in a few seconds.' },
  'past-the-end': { status: 413, text: 'Only {remaining} bytes of this upload are missing; send no more than that.' },
  'digest-mismatch': { status: 422, text: 'The content does not match the digest you sent (SHA-256 received {actual}); nothing was kept, upload again.' },
  'not-encrypted': { status: 422, text: 'Nothing was kept: this channel takes only encrypted archives. {advice}' },
  'too-many-failures': { status: 429, text: 'Too many failed logins; try again in {retryAfter} seconds.' },
  'disk-full': { status: 507, text: 'The upload server is out of storage; nothing was kept, try again later.' },
  internal: { status: 500, text: 'Upload failed on the server; nothing was kept, try again later.' },
} as const satisfies Record<string, { status: number; text: string }>;

export type UploadReplyCode = keyof typeof uploadReplies;

export interface UploadRefusal {
  code: UploadReplyCode;
  status: number;
  message: string;
  headers?: Record<string, string>;
}

export function refusal(code: UploadReplyCode, vars: Record<string, string | number> = {}, headers?: Record<string, string>): UploadRefusal {
  const { status, text } = uploadReplies[code];
  const message = text.replace(/\{(\w+)\}/g, (_m, k: string) => String(vars[k] ?? ''));
  return { code, status, message: message.trim(), ...(headers ? { headers } : {}) };
}
