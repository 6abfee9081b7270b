export interface HostileItem {
  id: string;
  kind: 'message' | 'smtp-session' | 'archive-glob';
  file?: string;
  glob?: string;
  exclude?: string[];
  bytes?: number;
  envelope?: { from: string; to: string };
  expect: { smtp: string[] | 'as-steps'; worker: 'verdict' | 'stored' | 'verdict-if-accepted' | 'none' };
  why: string;
}
export interface HostileManifest {
  case: string;
  intakeAddress: string;
  items: HostileItem[];
}
export interface SessionStep {
  send?: string;
  repeat?: number;
  replies?: number;
  expect?: string[];
  max2xx?: number;
  closeOk?: boolean;
  close?: boolean;
  beforeGreeting?: boolean;
}
export function loadManifest(fixturesDir: string): HostileManifest;
export function messageBytes(fixturesDir: string, item: HostileItem): Buffer;
export function replayMessage(
  port: number,
  bytes: Uint8Array,
  item: HostileItem,
  options?: { replyTimeoutMs?: number },
): Promise<{ ok: boolean; code: number; stage: string; lines: string[]; latencyMs?: number; problem?: string }>;
export function replaySession(
  port: number,
  script: { id: string; steps: SessionStep[] },
  options?: { replyTimeoutMs?: number },
): Promise<{ ok: boolean; problems: string[]; replies: number[]; perStep: number[][]; messagesAccepted: number }>;
