import { Writable } from 'node:stream';
import { describe, expect, it } from 'vitest';
import { createLogger, maskAddress } from '../src/log.js';

function capture(level: string): { logger: ReturnType<typeof createLogger>; text: () => string; lines: () => Record<string, unknown>[] } {
  let out = '';
  const sink = new Writable({
    write(chunk: Buffer, _enc, done) {
      out += chunk.toString('utf8');
      done();
    },
  });
  const logger = createLogger(level, sink);
  return {
    logger,
    text: () => out,
    lines: () =>
      out
        .split('\n')
        .filter(Boolean)
        .map((l) => JSON.parse(l) as Record<string, unknown>),
  };
}

describe('log scrubbing', () => {
  it('censors secrets at any depth, in the line and in child bindings', () => {
    const { logger, text } = capture('info');
    logger.child({ auth: { user: 'relay', password: 'hunter2' } }).info({ a: { b: { c: { token: 't0k3n', secret: 's3cr3t' } } }, list: [{ key: 'k3y' }] }, 'x');
    logger
      .child({ stage: 'smtp' })
      .child({ session: { pass: 'p4ss' } })
      .info('grandchild');
    expect(text()).not.toMatch(/hunter2|t0k3n|s3cr3t|k3y|p4ss/);
    expect(text().match(/\[redacted\]/g)).toHaveLength(5);
  });

  it('shows an address at info as a stable hash and its domain, never in full', () => {
    const { logger, text, lines } = capture('info');
    logger.info({ sender: 'Customer@Example.com' }, 'one');
    logger.child({ job: 1 }).info({ nested: { rcptTo: ['attach@localhost', 'customer@example.com'] }, to: 'Eng <eng@corp.example>' }, 'two');
    expect(text()).not.toMatch(/customer@|eng@|attach@/i);
    const [one, two] = lines();
    expect(one!.sender).toMatch(/^#[0-9a-f]{12}@example\.com$/);
    // the same person, however it was written, is the same hash
    expect((two!.nested as { rcptTo: string[] }).rcptTo[1]).toBe(one!.sender);
    expect(two!.to).toMatch(/^Eng <#[0-9a-f]{12}@corp\.example>$/);
  });

  it('shows full addresses at debug level', () => {
    const { logger, lines } = capture('debug');
    logger.info({ sender: 'customer@example.com' }, 'x');
    expect(lines()[0]!.sender).toBe('customer@example.com');
  });

  it('leaves errors and other fields to pino as they were', () => {
    const { logger, lines } = capture('info');
    logger.error({ err: new Error('boom'), caseNumber: '612345678', keyId: 'k1' }, 'x');
    expect(lines()[0]).toMatchObject({ err: { message: 'boom', type: 'Error' }, caseNumber: '612345678', keyId: 'k1' });
  });

  it('masks in time linear in the input, whatever the text', () => {
    expect(maskAddress('no address here')).toBe('no address here');
    expect(maskAddress('@'.repeat(100_000)).length).toBe(100_000);
    expect(maskAddress(`${'a'.repeat(100_000)}@x`)).toMatch(/^a+#[0-9a-f]{12}@x$/);
  });
});
