/**
 * TEST ONLY: `CASEDROP_TEST_CRASH_AT=<step>` with NODE_ENV=test makes the process die (exit 137, as
 * if killed) at that step, so crash tests can prove a re-run converges. Ignored in any other mode.
 */
export function testCrashHook<Step extends string>(mode: string, env: NodeJS.ProcessEnv = process.env): ((step: Step) => void) | undefined {
  const at = env.CASEDROP_TEST_CRASH_AT;
  if (mode !== 'test' || !at) return undefined;
  return (step: Step) => {
    if (step === at) process.exit(137);
  };
}
