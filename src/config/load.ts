import { CasedropError, ErrorCode } from '../errors.js';
import { settings, type Config, type SettingName } from './schema.js';

/**
 * Reads the environment once, validates every setting and freezes the result. A bad value
 * throws a CONFIG_INVALID error whose message is one line naming the variable.
 */
export function loadConfig(env: NodeJS.ProcessEnv = process.env): Config {
  const out: Record<string, unknown> = {};
  for (const [name, s] of Object.entries(settings)) {
    const raw = env[s.env] === '' && s.default === undefined ? undefined : (env[s.env] ?? s.default);
    const parsed = s.schema.safeParse(raw);
    if (!parsed.success) {
      const why = parsed.error.issues[0]?.message ?? 'invalid value';
      const shown = s.secret || raw === undefined ? '' : ` (got "${raw}")`;
      throw new CasedropError(ErrorCode.ConfigInvalid, `${s.env}: ${why}${shown}`);
    }
    out[name] = parsed.data;
  }
  return Object.freeze(out) as Config;
}

/** For `casedrop config`: every setting with secrets masked. */
export function describeConfig(config: Config): Array<{ env: string; value: string }> {
  return (Object.keys(settings) as SettingName[]).map((name) => {
    const s = settings[name];
    const v = config[name];
    const shown = v === undefined ? '' : Array.isArray(v) ? v.join(',') : String(v);
    return { env: s.env, value: 'secret' in s && s.secret && shown !== '' ? '********' : shown };
  });
}

/** Markdown table for the README; a test checks the README holds exactly this. */
export function configTableMarkdown(): string {
  const rows = Object.values(settings).map((s) => `| \`${s.env}\` | ${s.default === undefined || s.default === '' ? '—' : `\`${s.default}\``} | ${s.doc} |`);
  return ['| variable | default | what it does |', '| --- | --- | --- |', ...rows].join('\n');
}
