import { existsSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { killSuite } from './support/kill-suite.js';

/**
 * kill -9 of door and worker during 1,000 messages, in tmpfs (fast); see support/kill-suite.ts.
 * FAULTS_MESSAGES=2000 runs a longer one. Two failures this test found, both dead letters of plain
 * mail under repeated worker kills on a loaded machine (nothing lost: the spool objects waited for
 * `casedrop jobs retry`): jobs stalled past BullMQ's bound of 2 (now STALLS_BEFORE_DEAD_LETTER), and
 * 6 messages refused as too-complex because a death counted against all 16 jobs in flight, not the
 * one in the parse thread (test/pipeline/worker-poison.test.ts).
 */
killSuite({ scratch: process.env.FAULTS_TMP ?? (existsSync('/dev/shm') ? '/dev/shm' : tmpdir()), messages: Number(process.env.FAULTS_MESSAGES ?? 1000) });
