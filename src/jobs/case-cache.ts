import type { CaseRegistry } from '../cases/types.js';

/**
 * How long a worker process trusts a case look-up: the intake job asks whether the case is open, its
 * notify step and engineer mail ask for the owner, as does every other message of a burst to one
 * case, a moment apart. One look-up answers them all for this long.
 *
 * The price, and the bound on it: a case closed (or handed to another engineer) is seen by the
 * worker at most this long later. A message the door accepted before the close and that a worker
 * takes up within these seconds after it is still stored in the case; one taken up later is refused
 * as `case-closed`, as before. The SMTP door does not use this cache: it refuses new mail to a closed
 * case at once.
 */
export const CASE_CACHE_MS = 5000;

type Get = Pick<CaseRegistry, 'get'>;

/** `registry.get` answered from a look-up made less than `ttlMs` ago; everything else of a case is read as before. */
export function cachedCases(registry: Get, ttlMs = CASE_CACHE_MS, now: () => number = Date.now): Get {
  const seen = new Map<string, { at: number; found: ReturnType<Get['get']> }>();
  return {
    get(number) {
      const at = now();
      const hit = seen.get(number);
      if (hit && at - hit.at < ttlMs) return hit.found;
      const found = registry.get(number);
      seen.set(number, { at, found });
      // a failed look-up is not kept; the map holds the few cases mail arrived for in the last seconds
      found.catch(() => seen.delete(number));
      if (seen.size > 1000) for (const [k, v] of seen) if (at - v.at >= ttlMs) seen.delete(k);
      return found;
    },
  };
}
