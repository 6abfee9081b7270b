import { statSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CASE, run, sftpBatch, SSH_OPTS, startHarness, type Harness } from './harness.js';

const loggedIn = (r: { stdout: string }) => r.stdout.includes('Remote working directory: /');

describe('SSH logins are upload tokens', () => {
  let h: Harness;
  beforeAll(async () => {
    h = await startHarness({ CASEDROP_UPLOAD_LOGIN_FAILURES_PER_ADDRESS: '1000' });
  });
  afterAll(() => h.close());

  it('refuses a revoked token, an expired one, a token of another channel and every token of a closed case', async () => {
    const revoked = await h.tokens.create(CASE, { label: 'old', expiresInSeconds: 3600 });
    expect(loggedIn(await sftpBatch(h, 'pwd\n', { password: revoked.secret }))).toBe(true);
    await h.tokens.revoke(CASE, revoked.token.id);
    expect(loggedIn(await sftpBatch(h, 'pwd\n', { password: revoked.secret }))).toBe(false);

    const short = await h.tokens.create(CASE, { label: 'short', expiresInSeconds: 1 });
    await new Promise((r) => setTimeout(r, 1100));
    expect(loggedIn(await sftpBatch(h, 'pwd\n', { password: short.secret }))).toBe(false);

    const httpsOnly = await h.tokens.create(CASE, { label: 'web', expiresInSeconds: 3600, channels: ['https'] });
    expect(loggedIn(await sftpBatch(h, 'pwd\n', { password: httpsOnly.secret }))).toBe(false);

    await h.registry.close(CASE);
    try {
      expect(loggedIn(await sftpBatch(h, 'pwd\n'))).toBe(false);
    } finally {
      await h.registry.reopen(CASE);
    }
    expect(loggedIn(await sftpBatch(h, 'pwd\n'))).toBe(true);
  });
});

describe('brute force', () => {
  let h: Harness;
  beforeAll(async () => {
    h = await startHarness({ CASEDROP_UPLOAD_LOGIN_FAILURES_PER_ADDRESS: '3' });
  });
  afterAll(() => h.close());

  it("after the HTTPS door's failed-login limit even the right token is refused, with a log line", async () => {
    for (let i = 0; i < 3; i++) await sftpBatch(h, 'pwd\n', { password: `cdu_${'y'.repeat(32)}` });
    expect(loggedIn(await sftpBatch(h, 'pwd\n'))).toBe(false);
    expect(h.logLines.join('')).toContain('"event":"upload_login_blocked"');
  });
});

describe('host keys and algorithms', () => {
  let h: Harness;
  beforeAll(async () => {
    h = await startHarness();
  });
  afterAll(() => h.close());

  const fingerprint = async (opts: string[] = []) => {
    const r = await run('ssh', [...SSH_OPTS, '-v', ...opts, '-p', String(h.drive.port), `${CASE}@127.0.0.1`, 'true'], { password: h.token });
    return { ...r, key: /Server host key: (\S+ SHA256:\S+)/.exec(r.stderr)?.[1] };
  };

  it('keeps its host keys (mode 0600) across a restart', async () => {
    const before = await fingerprint();
    expect(before.key).toMatch(/^ssh-ed25519 /);
    for (const f of ['ssh_host_ed25519_key', 'ssh_host_rsa_key']) expect(statSync(join(h.config.dataDir, 'ssh', f)).mode & 0o777).toBe(0o600);
    await h.restart();
    expect((await fingerprint()).key).toBe(before.key);
  });

  it('has no shell and runs no command', async () => {
    const r = await fingerprint();
    expect(r.code).not.toBe(0);
    expect(r.stderr).toContain('no shell and no commands');
  });

  it('offers the legacy algorithms only when asked to', async () => {
    const legacy = ['-o', 'KexAlgorithms=diffie-hellman-group14-sha1', '-o', 'HostKeyAlgorithms=ssh-rsa', '-o', 'PubkeyAcceptedAlgorithms=+ssh-rsa'];
    const refused = await fingerprint(legacy);
    expect(refused.stderr).toMatch(/no matching (key exchange method|host key type) found/);
    await h.drive.stop(0);
    const { startSftp } = await import('../../src/sftp/index.js');
    h.drive = await startSftp({
      config: { ...h.config, sftpLegacyAlgorithms: true },
      logger: (await import('../../src/log.js')).createLogger('silent'),
      store: h.store,
      registry: h.registry,
      redis: h.redis,
    });
    const accepted = await fingerprint(legacy);
    expect(accepted.key).toMatch(/^ssh-rsa /);
    expect(accepted.stderr).toContain('kex: algorithm: diffie-hellman-group14-sha1');
  });
});
