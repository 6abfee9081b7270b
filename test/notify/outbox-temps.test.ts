import { mkdirSync, mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pino } from 'pino';
import { afterEach, describe, expect, it } from 'vitest';
import { outboxDeliverer } from '../../src/notify/deliver.js';
import { thisHost } from '../../src/store/fs-temp.js';

let dir: string;
afterEach(() => rmSync(dir, { recursive: true, force: true }));

describe('outbox temp files', () => {
  it('the first delivery of a process removes a crashed writer’s unfinished mail and leaves a live writer’s alone', async () => {
    dir = mkdtempSync(join(tmpdir(), 'casedrop-outbox-temps-'));
    const tmp = join(dir, '.outbox-tmp');
    mkdirSync(tmp);
    // pid 4194305 is above Linux's pid_max: that writer is certainly gone (killed mid-write)
    const crashed = `${thisHost}.4194305.0123456789abcdef.part`;
    // the parent process is alive: its mail may still be being written
    const live = `${thisHost}.${process.ppid}.fedcba9876543210.part`;
    for (const name of [crashed, live]) writeFileSync(join(tmp, name), 'Subject: half a mail\r\n');
    const outbox = outboxDeliverer(join(dir, 'outbox'), tmp, pino({ level: 'silent' }));
    await outbox.deliver('x-sender', Buffer.from('Subject: test\r\n\r\nbody\r\n'), { from: false, to: ['customer@example.com'] });
    expect(readdirSync(tmp)).toEqual([live]);
    expect(readdirSync(join(dir, 'outbox'))).toEqual(['x-sender.eml']);
  });
});
