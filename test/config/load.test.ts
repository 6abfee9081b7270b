import { describe, expect, it } from 'vitest';
import { loadConfig, describeConfig } from '../../src/config/load.js';
import { isCasedropError } from '../../src/errors.js';

describe('loadConfig', () => {
  it('has defaults that run on a laptop', () => {
    const c = loadConfig({});
    expect(c.smtpHost).toBe('127.0.0.1');
    expect(c.smtpPort).toBe(2525);
    expect(c.httpHost).toBe('127.0.0.1');
    expect(c.httpPort).toBe(8080);
    expect(c.redisUrl).toBe('redis://127.0.0.1:6379');
    expect(c.dataDir).toBe('./data');
    expect(c.intakeAddresses).toEqual(['attach@localhost']);
    expect(c.maxMessageBytes).toBe(20_971_520);
    expect(c.caseDigits).toBe(9);
    expect(c.mode).toBe('development');
  });

  it('parses lists, numbers and booleans from the environment', () => {
    const c = loadConfig({
      CASEDROP_INTAKE_ADDRESSES: 'attach@example.com, files@example.com',
      CASEDROP_SMTP_PORT: '25',
      CASEDROP_SMTP_REQUIRE_TLS: 'true',
    });
    expect(c.intakeAddresses).toEqual(['attach@example.com', 'files@example.com']);
    expect(c.smtpPort).toBe(25);
    expect(c.smtpRequireTls).toBe(true);
  });

  it('is frozen', () => {
    const c = loadConfig({});
    expect(Object.isFrozen(c)).toBe(true);
    expect(() => {
      (c as { smtpPort: number }).smtpPort = 1;
    }).toThrow();
  });

  it.each([
    ['CASEDROP_SMTP_PORT', 'seventy'],
    ['CASEDROP_SMTP_PORT', '70000'],
    ['CASEDROP_INTAKE_ADDRESSES', 'not-an-address'],
    ['CASEDROP_REDIS_URL', 'localhost'],
    ['CASEDROP_SMTP_REQUIRE_TLS', 'maybe'],
    ['NODE_ENV', 'staging'],
  ])('refuses %s=%s with one line naming the variable', (name, value) => {
    let caught: unknown;
    try {
      loadConfig({ [name]: value });
    } catch (err) {
      caught = err;
    }
    expect(isCasedropError(caught, 'CONFIG_INVALID')).toBe(true);
    const message = (caught as Error).message;
    expect(message.startsWith(`${name}: `)).toBe(true);
    expect(message).not.toContain('\n');
  });

  it('never echoes a secret in its error', () => {
    expect(() => loadConfig({ CASEDROP_REDIS_URL: 'hunter2-secret' })).toThrow(/^CASEDROP_REDIS_URL: (?!.*hunter2)/);
  });
});

describe('describeConfig', () => {
  it('masks secrets and shows the rest', () => {
    const c = loadConfig({ CASEDROP_MASTER_KEYS: 'k1:c2VjcmV0', CASEDROP_WEBHOOK_SECRET: 'whsec', CASEDROP_SMTP_PORT: '2526' });
    const shown = Object.fromEntries(describeConfig(c).map((r) => [r.env, r.value]));
    expect(shown.CASEDROP_MASTER_KEYS).toBe('********');
    expect(shown.CASEDROP_WEBHOOK_SECRET).toBe('********');
    expect(shown.CASEDROP_SMTP_PORT).toBe('2526');
    expect(JSON.stringify(shown)).not.toContain('c2VjcmV0');
  });
});
