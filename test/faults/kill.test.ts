import { existsSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { killSuite } from './support/kill-suite.js';

/** kill -9 of door and worker during 2,000 messages, in tmpfs (fast); see support/kill-suite.ts. */
killSuite({ scratch: process.env.FAULTS_TMP ?? (existsSync('/dev/shm') ? '/dev/shm' : tmpdir()), messages: Number(process.env.FAULTS_MESSAGES ?? 2000) });
