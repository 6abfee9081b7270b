/** `s` without any trailing `ch` (a loop: the regex `/ch+$/` backtracks polynomially on long runs). */
export function trimTrailing(s: string, ch: string): string {
  let end = s.length;
  while (end > 0 && s[end - 1] === ch) end--;
  return s.slice(0, end);
}
