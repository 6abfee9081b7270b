const DAYS = ['Sun', 'Mon', 'Tue', 'Wed', 'Thu', 'Fri', 'Sat'];
const MONTHS = ['Jan', 'Feb', 'Mar', 'Apr', 'May', 'Jun', 'Jul', 'Aug', 'Sep', 'Oct', 'Nov', 'Dec'];

/**
 * RFC 5322 date-time in UTC, e.g. `Tue, 2 Jan 2024 10:00:00 +0000`, for `Received:`, DSN and reply
 * headers alike. Written out rather than `toUTCString()`, which says GMT, an obsolete zone. An ISO
 * string that does not parse (a damaged record) gives the current time rather than `Invalid Date`.
 */
export function rfc5322Date(when: Date | string): string {
  const parsed = typeof when === 'string' ? new Date(when) : when;
  const date = Number.isNaN(parsed.getTime()) ? new Date() : parsed;
  const pad = (n: number) => String(n).padStart(2, '0');
  const time = `${pad(date.getUTCHours())}:${pad(date.getUTCMinutes())}:${pad(date.getUTCSeconds())}`;
  return `${DAYS[date.getUTCDay()]}, ${date.getUTCDate()} ${MONTHS[date.getUTCMonth()]} ${date.getUTCFullYear()} ${time} +0000`;
}
