export class SmtpReplyTimeout extends Error {}
export interface SmtpReply {
  code: number;
  lines: string[];
  /** performance.now() when the reply was complete */
  at: number;
  closed?: boolean;
}
export interface SmtpSession {
  greeting?: SmtpReply;
  reply(timeoutMs?: number): Promise<SmtpReply>;
  write(bytes: string | Uint8Array): Promise<number>;
  command(line: string): Promise<SmtpReply>;
  sendMessage(m: { from: string; to: string; body: Uint8Array }): Promise<SmtpReply & { stage: string; latencyMs?: number }>;
  quit(): Promise<void>;
  destroy(): void;
}
export function openSession(options: { host?: string; port: number; replyTimeoutMs?: number; greeting?: boolean }): Promise<SmtpSession>;
export function stuffRaw(bytes: Uint8Array): Buffer;
export function wireBody(path: string): Buffer;
