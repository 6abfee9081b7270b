export interface Trickle {
  /** bytes written so far */
  readonly sent: number;
  stop(): void;
}
export interface RawClient {
  /** everything the server sent, latin1 */
  readonly text: string;
  readonly openedAt: number;
  /** performance.now() when the connection closed, or undefined while it is open */
  readonly closedAt: number | undefined;
  readonly isClosed: boolean;
  /** resolves with performance.now() when the connection closes */
  readonly closed: Promise<number>;
  waitFor(pattern: { exec(text: string): RegExpExecArray | null }, timeoutMs?: number): Promise<RegExpExecArray>;
  /** the next complete reply not yet taken, CRLF-joined lines without the final CRLF */
  nextReply(timeoutMs?: number): Promise<string>;
  write(bytes: string | Uint8Array): Promise<void>;
  trickle(text: string, intervalMs: number): Trickle;
  destroy(): void;
}
export function connectRaw(options: { port: number; host?: string; localAddress?: string }): Promise<RawClient>;
