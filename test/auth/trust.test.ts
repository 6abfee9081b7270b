import { describe, expect, it } from 'vitest';
import { aligned, describeAuth, displayNameWarning, domainOf, doorAuthVerdict, senderTrust } from '../../src/auth/trust.js';
import type { SenderAuth } from '../../src/auth/types.js';
import { authGate } from '../../src/smtp/sender-auth.js';

/** The pure trust decisions, one fact varied at a time. */
function auth(over: Partial<SenderAuth> = {}): SenderAuth {
  return {
    spf: { result: 'none' },
    dkim: [],
    dmarc: { result: 'none' },
    arc: { result: 'none' },
    clientAddress: '192.0.2.1',
    heloName: 'mx.example.com',
    trustedNetwork: false,
    header: '',
    ...over,
  };
}

describe('senderTrust', () => {
  it('trusts SPF pass for the envelope domain, an aligned passing DKIM signature, or DMARC pass for an aligned From', () => {
    expect(senderTrust(auth({ spf: { result: 'pass', domain: 'example.com' } }), 'a@example.com')).toEqual({ trusted: true, how: 'SPF pass (example.com)' });
    expect(senderTrust(auth({ dkim: [{ domain: 'example.com', result: 'pass', aligned: true }] }), 'a@mail.example.com').how).toBe('DKIM pass (example.com)');
    expect(senderTrust(auth({ dmarc: { result: 'pass', domain: 'example.com' }, headerFromDomain: 'example.com' }), 'a@example.com').how).toBe(
      'DMARC pass (example.com)',
    );
  });

  it('does not trust a pass that vouches for another domain than the envelope sender', () => {
    expect(senderTrust(auth({ spf: { result: 'pass', domain: 'attacker.example' } }), 'victim@example.com').trusted).toBe(false);
    expect(senderTrust(auth({ dkim: [{ domain: 'attacker.example', result: 'pass', aligned: false }] }), 'victim@example.com').trusted).toBe(false);
    expect(
      senderTrust(auth({ dmarc: { result: 'pass', domain: 'attacker.example' }, headerFromDomain: 'attacker.example' }), 'victim@example.com').trusted,
    ).toBe(false);
    expect(senderTrust(auth({ spf: { result: 'fail', domain: 'example.com' } }), 'victim@example.com')).toEqual({ trusted: false, how: 'SPF fail, no DKIM' });
  });

  it('trusts a client in a trusted network, saying so', () => {
    expect(senderTrust(auth({ trustedNetwork: true, clientAddress: '10.0.0.5' }), 'a@example.com')).toEqual({
      trusted: true,
      how: 'trusted network (10.0.0.5); SPF none, no DKIM',
    });
  });

  it('aligns a domain with its subdomains only', () => {
    expect(aligned('example.com', 'mail.example.com')).toBe(true);
    expect(aligned('example.com', 'badexample.com')).toBe(false);
    expect(aligned(undefined, 'example.com')).toBe(false);
    expect(domainOf('<A@Example.COM>')).toBe('example.com');
  });
});

describe('describeAuth', () => {
  it('names the strongest result first', () => {
    expect(describeAuth(auth({ dmarc: { result: 'pass', domain: 'example.com' } }))).toBe('DMARC pass (example.com)');
    expect(
      describeAuth(
        auth({ spf: { result: 'fail' }, dkim: [{ domain: 'example.com', result: 'fail', aligned: true }], dmarc: { result: 'fail', domain: 'example.com' } }),
      ),
    ).toBe('SPF fail, DKIM fail (example.com), DMARC fail (example.com)');
  });
});

describe('doorAuthVerdict and the require gate', () => {
  it('is temporary on a DNS failure, 5.7.23 for SPF alone, 5.7.26 for more, and accepts the authenticated', () => {
    expect(doorAuthVerdict(auth({ spf: { result: 'temperror' } }), 'a@example.com')).toEqual({ kind: 'temporary' });
    expect(doorAuthVerdict(auth({ spf: { result: 'fail' }, dmarc: { result: 'fail' } }), 'a@example.com')).toEqual({ kind: 'spf' });
    expect(doorAuthVerdict(auth({ spf: { result: 'fail' }, dkim: [{ domain: 'example.com', result: 'fail', aligned: true }] }), 'a@example.com')).toEqual({
      kind: 'multiple',
    });
    expect(doorAuthVerdict(auth(), 'a@example.com')).toEqual({ kind: 'multiple' });
    // a DNS failure does not stop mail another check already vouches for
    expect(doorAuthVerdict(auth({ spf: { result: 'temperror' }, dkim: [{ domain: 'example.com', result: 'pass', aligned: true }] }), 'a@example.com')).toEqual({
      kind: 'accept',
    });
  });

  it('discards failing automatic mail instead of refusing it, but asks everyone to retry on a DNS failure', () => {
    expect(authGate(auth({ spf: { result: 'fail' } }), 'a@example.com', true)).toMatchObject({ kind: 'discard', name: 'authSpfFailed' });
    expect(authGate(auth({ spf: { result: 'temperror' } }), 'a@example.com', true)).toMatchObject({ kind: 'refuse', name: 'authTemporary' });
    expect(authGate(auth({ spf: { result: 'fail' } }), 'a@example.com', false)).toEqual({
      kind: 'refuse',
      name: 'authSpfFailed',
      vars: { domain: 'example.com', ip: '192.0.2.1' },
    });
  });
});

describe('displayNameWarning', () => {
  it('warns when the display name names a domain the authentication does not vouch for', () => {
    const forged = auth({ spf: { result: 'fail' } });
    expect(displayNameWarning('PayPal support@paypal.example', forged)).toMatch(/claims paypal\.example, which the authentication does not support/);
    const bank = auth({ dmarc: { result: 'pass', domain: 'bank.example' }, headerFromDomain: 'bank.example' });
    expect(displayNameWarning('bank.example support', bank)).toBeUndefined();
    expect(displayNameWarning('other-bank.example support', bank)).toMatch(/other-bank\.example/);
    expect(displayNameWarning('Jane Doe', forged)).toBeUndefined();
    expect(displayNameWarning('version 1.2.3', forged)).toBeUndefined();
  });

  it('reads a hostile display name in linear time, cut first', () => {
    const name = 'a.'.repeat(500_000);
    expect(displayNameWarning(name, auth())).toMatch(/claims/);
  });
});

describe('trusted networks', () => {
  it('matches addresses and ranges, IPv4-mapped IPv6 included, and the setting refuses what is not one', async () => {
    const { TrustedNetworks } = await import('../../src/auth/check.js');
    const { loadConfig } = await import('../../src/config/load.js');
    const nets = new TrustedNetworks(['127.0.0.0/8', '::1', '10.1.0.0/16']);
    expect(['127.0.0.1', '::ffff:127.0.0.1', '::1', '10.1.2.3'].map((a) => nets.has(a))).toEqual([true, true, true, true]);
    expect(['192.0.2.1', '10.2.0.1', 'not-an-ip', ''].map((a) => nets.has(a))).toEqual([false, false, false, false]);
    expect(() => loadConfig({ CASEDROP_AUTH_TRUSTED_NETWORKS: '999.1.1.1' })).toThrow(/CASEDROP_AUTH_TRUSTED_NETWORKS: not an IP address or CIDR range/);
    expect(() => loadConfig({ CASEDROP_AUTH_TRUSTED_NETWORKS: '10.0.0.0/33' })).toThrow(/CASEDROP_AUTH_TRUSTED_NETWORKS/);
    expect(loadConfig({ CASEDROP_AUTH_TRUSTED_NETWORKS: '' }).authTrustedNetworks).toEqual([]);
  });
});
