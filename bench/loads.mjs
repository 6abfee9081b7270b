// The benchmark loads (from the issue) and the environment knobs that shrink them for a quick run.
const env = process.env;
const int = (name, dflt) => (env[name] ? Number.parseInt(env[name], 10) : dflt);

export const LOADS = {
  A: { messages: int('BENCH_A_MESSAGES', 5000), sessions: 20, wireBytes: 10 * 1024, reuse: false, probePauseMs: 50 },
  'A-d': { messages: int('BENCH_A_MESSAGES', 5000), sessions: 20, wireBytes: 10 * 1024, reuse: true, probePauseMs: 50 },
  // just under casedrop's default 20 MiB SIZE limit, which counts the wire bytes (base64 and CRLF included)
  B: { messages: int('BENCH_B_MESSAGES', 100), sessions: 4, wireBytes: 20 * 1024 * 1024 - 64 * 1024, reuse: false, probePauseMs: 2000 },
};

export function benchOptions() {
  const loads = (env.BENCH_LOADS ?? 'A,A-d,B')
    .split(',')
    .map((s) => s.trim())
    .filter(Boolean);
  for (const l of loads) if (!LOADS[l]) throw new Error(`BENCH_LOADS: unknown load ${l} (known: ${Object.keys(LOADS).join(', ')})`);
  const systems = (env.BENCH_SYSTEMS ?? 'casedrop,postfix')
    .split(',')
    .map((s) => s.trim())
    .filter(Boolean);
  return {
    loads,
    systems,
    rounds: int('BENCH_ROUNDS', 3),
    roles: (env.BENCH_ROLES ?? 'smtp,worker').split(','),
    drainTimeoutMs: int('BENCH_DRAIN_TIMEOUT_S', 300) * 1000,
    sendTimeoutMs: int('BENCH_SEND_TIMEOUT_S', 600) * 1000,
    keep: env.BENCH_KEEP === '1',
    // receipts the notify stage writes to <dataDir>/outbox when no relay is configured
    receiptPattern: new RegExp(env.BENCH_RECEIPT_PATTERN ?? '-sender\\.eml$'),
  };
}
