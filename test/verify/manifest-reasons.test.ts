import { readdirSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { isReasonCode, reasonTable } from '../../src/reasons/table.js';
import { readManifest } from './manifest.js';

const families = readdirSync(join('fixtures', 'archives')).filter((name) => statSync(join('fixtures', 'archives', name)).isDirectory());

describe('every fixture manifest', () => {
  it.each(families)('%s uses only reasons of the table, with the table’s verdict', (family) => {
    const manifest = readManifest(family);
    expect(manifest.length).toBeGreaterThan(0);
    for (const entry of manifest) {
      expect(isReasonCode(entry.reason), `${family}/${entry.file}: ${entry.reason}`).toBe(true);
      if (isReasonCode(entry.reason)) expect(entry.verdict, `${family}/${entry.file}`).toBe(reasonTable[entry.reason].verdict);
    }
  });
});
