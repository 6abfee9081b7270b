import { tmpdir } from 'node:os';
import { killSuite } from './support/kill-suite.js';

/** kill -9 of door and worker on a real disk, so every fsync is real; see support/kill-suite.ts. */
killSuite({ scratch: process.env.FAULTS_DISK_TMP ?? tmpdir(), messages: Number(process.env.FAULTS_DISK_MESSAGES ?? 300) });
