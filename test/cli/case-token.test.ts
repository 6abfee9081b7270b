import { afterAll, describe, expect, it } from 'vitest';
import { cliRunner } from '../helpers/cli.js';
import { testConfig } from '../helpers/env.js';

describe('casedrop case token', () => {
  const { config, cleanup } = testConfig();
  afterAll(cleanup);
  const run = cliRunner(config);

  it('creates (printing the token once), lists without the token, and revokes', async () => {
    await run('case', 'open', '612345678', '--owner', 'eng@example.com');
    const made = await run('case', 'token', 'create', '612345678', '--label', 'router 7', '--channels', 'https,tus', '--max-bytes', '5000', '--expires', '12h');
    expect(made.code).toBe(0);
    expect(made.out).toHaveLength(1);
    const secret = made.out[0]!;
    expect(secret).toMatch(/^cdu_/);
    const listed = await run('case', 'token', 'list', '612345678');
    expect(listed.out).toHaveLength(1);
    expect(listed.out.join('\n')).not.toContain(secret.slice(4));
    const [id, label, , , lastUsed, bytes, chans, max] = listed.out[0]!.split('\t');
    expect([label, lastUsed, bytes, chans, max]).toEqual(['router 7', '-', '0', 'https,tus', '5000']);
    expect((await run('case', 'token', 'revoke', '612345678', id!)).out).toEqual(['revoked 1']);
    const trail = JSON.parse((await run('case', 'audit', '612345678', '--json')).out.join('\n')) as { type: string; details?: Record<string, unknown> }[];
    expect(trail.map((e) => e.type)).toEqual(['token-created', 'token-revoked']);
    expect(trail[0]!.details).toMatchObject({ tokenId: id, label: 'router 7' });
    expect(JSON.stringify(trail)).not.toContain(secret.slice(4));
    expect((await run('case', 'token', 'list', '612345678')).out).toEqual([]);
    expect((await run('case', 'token', 'revoke', '612345678', id!)).code).toBe(2);
  });

  it('bad options are usage errors (exit 2)', async () => {
    expect((await run('case', 'token', 'create', '612345678', '--expires', 'soon')).code).toBe(2);
    expect((await run('case', 'token', 'create', '612345678', '--channels', 'email')).code).toBe(2);
    expect((await run('case', 'token', 'create', '612345678', '--max-bytes', '-1')).code).toBe(2);
    expect((await run('case', 'token', 'revoke', '612345678')).code).toBe(2);
  });
});
