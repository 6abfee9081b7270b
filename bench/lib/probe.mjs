// Latency probe: smtp-source does not report per-message reply times, so one extra client sends the
// same message alongside the load, one at a time, and records end of DATA ("\r\n.\r\n" handed to the
// kernel) → final reply received. Its messages are counted in the expected deliveries.
import { openSession } from './smtp-client.mjs';
import { sleep } from './procs.mjs';

/**
 * Starts probing; `stop()` resolves to { latenciesMs, accepted, refused, errors } once the message in
 * flight has finished. reuse=true keeps one connection (like smtp-source -d).
 */
export function startProbe({ port, from, to, body, reuse = false, pauseMs = 100, replyTimeoutMs = 120_000 }) {
  const result = { latenciesMs: [], accepted: 0, refused: [], errors: [] };
  let stopping = false;
  let session = null;
  const send = async () => {
    if (!session) {
      session = await openSession({ port, replyTimeoutMs });
      await session.command('EHLO probe.bench.test');
    }
    const r = await session.sendMessage({ from, to, body });
    if (r.code >= 200 && r.code < 300) {
      result.accepted++;
      result.latenciesMs.push(r.latencyMs);
    } else {
      result.refused.push(`${r.stage}: ${r.lines.join(' | ') || 'connection closed'}`);
    }
    if (!reuse || r.closed) {
      await session.quit();
      session = null;
    }
  };
  const loop = (async () => {
    while (!stopping) {
      try {
        await send();
      } catch (err) {
        result.errors.push(String(err.message ?? err));
        session?.destroy();
        session = null;
      }
      if (!stopping) await sleep(pauseMs);
    }
    await session?.quit();
  })();
  return {
    stop: async () => {
      stopping = true;
      await loop;
      return result;
    },
  };
}
