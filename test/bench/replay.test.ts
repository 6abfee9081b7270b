import { afterEach, describe, expect, it } from 'vitest';
import { createServer, type Server, type Socket } from 'node:net';
import { replayMessage, replaySession, type HostileItem } from '../../bench/lib/replay.mjs';
import { stuffRaw } from '../../bench/lib/smtp-client.mjs';

/** A scripted fake SMTP server: `answer(line)` returns the reply for each command line (or null for none). */
function fakeServer(answer: (line: string, socket: Socket) => string | null): Promise<{ port: number; server: Server }> {
  return new Promise((resolve) => {
    const server = createServer((socket) => {
      socket.write('220 fake ESMTP\r\n');
      let buf = '';
      let inData = false;
      socket.on('data', (d) => {
        buf += d.toString('latin1');
        let nl;
        while ((nl = buf.indexOf('\r\n')) >= 0) {
          const line = buf.slice(0, nl);
          buf = buf.slice(nl + 2);
          if (inData) {
            if (line === '.') {
              inData = false;
              const r = answer('.', socket);
              if (r) socket.write(r);
            }
            continue;
          }
          if (line.toUpperCase() === 'DATA') inData = true;
          const r = answer(line, socket);
          if (r) socket.write(r);
        }
      });
    });
    server.listen(0, '127.0.0.1', () => resolve({ port: (server.address() as { port: number }).port, server }));
  });
}

const item: HostileItem = { id: 't', kind: 'message', envelope: { from: 'a@x.test', to: 'b@x.test' }, expect: { smtp: ['5'], worker: 'none' }, why: 'test' };
let server: Server | undefined;
afterEach(() => {
  server?.close();
  server = undefined;
});

describe('hostile replay', () => {
  it('passes a message whose final reply has an allowed class and fails one that does not', async () => {
    let final = '550 5.6.0 no\r\n';
    const s = await fakeServer((line) => (line === 'DATA' ? '354 go\r\n' : line === '.' ? final : '250 ok\r\n'));
    server = s.server;
    expect((await replayMessage(s.port, Buffer.from('Subject: x\r\n\r\nhi\r\n'), item)).ok).toBe(true);
    final = '250 2.0.0 queued\r\n';
    const r = await replayMessage(s.port, Buffer.from('Subject: x\r\n\r\nhi\r\n'), item);
    expect(r.ok).toBe(false);
    expect(r.problem).toContain('allowed 5xx');
  });

  it('reports a server that never answers as a hang, not a pass', async () => {
    const s = await fakeServer((line) => (line.startsWith('NOOP') ? null : '250 ok\r\n'));
    server = s.server;
    const r = await replaySession(s.port, { id: 'x', steps: [{ send: 'NOOP\r\n', expect: ['2'] }] }, { replyTimeoutMs: 300 });
    expect(r.ok).toBe(false);
    expect(r.problems.join()).toContain('no SMTP reply within 300 ms');
  });

  it('enforces max2xx over pipelined replies and accepts a hang-up only where allowed', async () => {
    let n = 0;
    const s = await fakeServer((line, socket) => {
      if (!line.startsWith('RCPT')) return '250 ok\r\n';
      if (++n > 5) {
        socket.end();
        return null;
      }
      return '250 ok\r\n';
    });
    server = s.server;
    const steps = [{ send: 'RCPT TO:<r{i}@x.test>\r\n', repeat: 8, replies: 8, expect: ['2', '4'], max2xx: 3, closeOk: true }];
    const r = await replaySession(s.port, { id: 'x', steps });
    expect(r.problems).toEqual(['step 0: 5 replies 2xx, at most 3 allowed']);
    expect(r.replies).toEqual([250, 250, 250, 250, 250]);
    n = 0;
    const strict = await replaySession(s.port, { id: 'x', steps: [{ ...steps[0]!, max2xx: undefined, closeOk: false }] });
    expect(strict.problems).toEqual(['step 0: server closed the connection after 5/8 replies']);
  });

  it('dot-stuffs only at CRLF line starts and keeps bare line ends', () => {
    expect(stuffRaw(Buffer.from('.a\r\n.b\n.c\r\nd')).toString('latin1')).toBe('..a\r\n..b\n.c\r\nd\r\n');
  });
});
