import { describe, expect, it } from 'vitest';
import { parseMessage, TooManyParts } from '../../src/pipeline/parse.js';
import { hostileMessages } from '../faults/support/hostile-mail.js';

/** The parser's bounds, fed the generator's attacks (test/faults/support/hostile-mail.ts). */
const attacks = new Map(hostileMessages({ caseNumber: '612345678' }).map((a) => [a.name, a.raw]));
const attack = (name: string) => attacks.get(name)!;

describe('parseMessage bounds', () => {
  it('stops at maxParts counted over every forwarded message (40 forwarded messages of 300 parts)', async () => {
    await expect(parseMessage(attack('forwarded messages of many tiny parts'), { maxParts: 1000 })).rejects.toBeInstanceOf(TooManyParts);
    // the bound, not the message, refuses: 500 parts pass a bound of 1000 and not one of 400
    expect((await parseMessage(attack('many files'), { maxParts: 1000 })).attachments).toHaveLength(500);
    await expect(parseMessage(attack('many files'), { maxParts: 400 })).rejects.toBeInstanceOf(TooManyParts);
  });

  it("refuses multiparts nested deeper than the part bound allows, through mailsplit's own node limit", async () => {
    await expect(parseMessage(attack('deeply nested multiparts'), { maxParts: 1000 })).rejects.toBeInstanceOf(TooManyParts);
  });

  it('keeps the forwarding depth bound: files past it are one too-deep part', async () => {
    const parsed = await parseMessage(attack('forwarded messages of many tiny parts'), { maxDepth: 0, maxParts: 1000 });
    expect(parsed.attachments.map((a) => a.kind)).toEqual(Array(40).fill('too-deep'));
  });

  it('cuts attachment names to maxNameChars, plain and as RFC 2231 continuations', async () => {
    const plain = await parseMessage(attack('long file name (plain)'), { maxNameChars: 255 });
    expect(plain.attachments[0]!.filename).toHaveLength(255);
    const continued = await parseMessage(attack('long file name (RFC 2231 continuations)'), { maxNameChars: 100 });
    expect(continued.attachments[0]!.filename).toBe('A'.repeat(100));
  });

  it('cuts header values to maxHeaderChars', async () => {
    const parsed = await parseMessage(attack('long Message-ID (outgoing References)'), { maxHeaderChars: 500 });
    expect(parsed.messageId!.length).toBeLessThanOrEqual(500);
  });
});
