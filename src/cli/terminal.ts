/**
 * Text from customers (notes, names, senders, subjects) made safe to print on an engineer's
 * terminal: every control character but tab and line feed, and every character that reorders or
 * hides text (bidi embeddings, overrides and isolates, directional and zero-width marks, line and
 * paragraph separators), is shown as a visible `\u{…}` escape. An escape sequence can then neither
 * write the clipboard (OSC 52), clear the screen nor disguise `gpj.exe` as `exe.jpg`.
 * One pass of a character class: linear in the text.
 */
// eslint-disable-next-line no-control-regex
const UNSAFE = /[\u0000-\u0008\u000b-\u001f\u007f-\u009f\u00ad\u061c\u180e\u200b-\u200f\u2028-\u202e\u2060-\u2069\ufeff\ufff9-\ufffb]/gu;

export function terminalText(text: string): string {
  return text.replace(UNSAFE, (c) => `\\u{${c.codePointAt(0)!.toString(16)}}`);
}
