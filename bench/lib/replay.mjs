// Replays the hostile corpus (fixtures/hostile/manifest.json, made by fixtures/make-hostile.py)
// against any SMTP server, checking only what the server answers. What happened behind the door
// (worker verdicts, memory) is for the caller to check: see test/faults/hostile.test.ts.
import { readFileSync } from 'node:fs';
import { gunzipSync } from 'node:zlib';
import { join } from 'node:path';
import { openSession, stuffRaw } from './smtp-client.mjs';

export function loadManifest(fixturesDir) {
  return JSON.parse(readFileSync(join(fixturesDir, 'hostile/manifest.json'), 'utf8'));
}

/** The exact message bytes of a `message` item (gunzipped when stored as .gz). */
export function messageBytes(fixturesDir, item) {
  const raw = readFileSync(join(fixturesDir, 'hostile', item.file));
  return item.file.endsWith('.gz') ? gunzipSync(raw) : raw;
}

const klass = (code) => String(code)[0];

/**
 * Sends one message item in its own session. Resolves { ok, code, stage, lines, latencyMs, problem }:
 * ok when the final reply's class is one the item allows (a refusal at MAIL/RCPT/DATA counts as its
 * own class).
 */
export async function replayMessage(port, bytes, item, { replyTimeoutMs = 60_000 } = {}) {
  const s = await openSession({ port, replyTimeoutMs });
  try {
    await s.command('EHLO hostile.test');
    const r = await s.sendMessage({ from: item.envelope.from, to: item.envelope.to, body: stuffRaw(bytes) });
    const ok = !r.closed && item.expect.smtp.includes(klass(r.code));
    return {
      ok,
      code: r.code,
      stage: r.stage,
      lines: r.lines,
      latencyMs: r.latencyMs,
      problem: ok
        ? undefined
        : `final reply ${r.closed ? 'none (connection closed)' : r.lines.join(' | ')} at ${r.stage}; allowed ${item.expect.smtp.join('/')}xx`,
    };
  } finally {
    await s.quit();
  }
}

function expand(step) {
  if (!step.repeat) return Buffer.from(step.send, 'latin1');
  const parts = [];
  for (let i = 0; i < step.repeat; i++) parts.push(step.send.replaceAll('{i}', String(i)));
  return Buffer.from(parts.join(''), 'latin1');
}

/**
 * Runs one scripted session. Resolves { ok, problems, replies, perStep, messagesAccepted }: every reply
 * code read, the codes per step, and how many messages (steps ending in CRLF.CRLF) got a 2xx; a timeout waiting for a reply is a problem (a hang), as is a hang-up the script did not allow.
 */
export async function replaySession(port, script, { replyTimeoutMs = 30_000 } = {}) {
  const early = script.steps[0]?.beforeGreeting === true;
  const s = await openSession({ port, replyTimeoutMs, greeting: !early });
  const problems = [];
  const codes = [];
  const perStep = [];
  try {
    if (!early && klass(s.greeting.code) !== '2') problems.push(`greeting ${s.greeting.lines.join(' | ')}`);
    for (const [n, step] of script.steps.entries()) {
      if (step.close) {
        s.destroy();
        break;
      }
      try {
        await s.write(expand(step));
      } catch {
        if (step.closeOk) break;
        problems.push(`step ${n}: connection closed before the write`);
        break;
      }
      if (early) s.greeting = await s.reply(); // the greeting (or a refusal) comes first
      const before = codes.length;
      const stop = await readReplies(s, step, n, codes, problems);
      perStep[n] = codes.slice(before);
      if (stop) break;
    }
  } catch (err) {
    problems.push(String(err.message ?? err));
  } finally {
    s.destroy();
  }
  const messagesAccepted = script.steps.filter((st, n) => st.send?.endsWith('\r\n.\r\n') && Math.floor((perStep[n]?.at(-1) ?? 0) / 100) === 2).length;
  return { ok: problems.length === 0, problems, replies: codes, perStep, messagesAccepted };
}

async function readReplies(s, step, n, codes, problems) {
  const want = step.replies ?? 1;
  let twoXX = 0;
  let hungUp = false;
  for (let i = 0; i < want && !hungUp; i++) {
    const r = await s.reply();
    if (r.closed) {
      if (!step.closeOk) problems.push(`step ${n}: server closed the connection after ${i}/${want} replies`);
      hungUp = true;
      break;
    }
    codes.push(r.code);
    if (klass(r.code) === '2') twoXX++;
    // 421 (shedding the session) and 221 (closing it) are hang-ups with a word: allowed wherever a hang-up is
    const allowed = step.expect.includes(klass(r.code)) || (step.closeOk && (r.code === 421 || r.code === 221));
    if (!allowed) problems.push(`step ${n} reply ${i}: ${r.lines.join(' | ').slice(0, 200)} (allowed ${step.expect.join('/')}xx)`);
    if (problems.length > 20) return true;
  }
  if (step.max2xx !== undefined && twoXX > step.max2xx) problems.push(`step ${n}: ${twoXX} replies 2xx, at most ${step.max2xx} allowed`);
  return hungUp;
}
