import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { parse } from 'yaml';

describe('docker-compose.yml', () => {
  const compose = parse(readFileSync('docker-compose.yml', 'utf8')) as {
    services: Record<string, { command?: string[]; build?: unknown; volumes?: string[]; environment?: Record<string, string>; ports?: string[] }>;
  };

  it('names redis and casedrop', () => {
    expect(Object.keys(compose.services).sort()).toEqual(['casedrop', 'redis']);
  });

  it('runs Redis with AOF and noeviction, so queued jobs survive restarts and are never evicted', () => {
    const cmd = compose.services.redis?.command?.join(' ') ?? '';
    expect(cmd).toMatch(/--appendonly yes/);
    expect(cmd).toMatch(/--maxmemory-policy noeviction/);
    expect(cmd).toMatch(/--appendfsync everysec/);
  });

  it('the dev Redis of scripts/ensure-tools.sh has the eviction policy casedrop requires (persistence it does not need)', () => {
    const line =
      readFileSync('scripts/ensure-tools.sh', 'utf8')
        .split('\n')
        .find((l) => l.trim().startsWith('redis-server')) ?? '';
    expect(line).toMatch(/--maxmemory-policy noeviction/);
    expect(line).toMatch(/--appendonly no/);
    expect(readFileSync('README.md', 'utf8')).toMatch(/Without persistence \(`--save "" --appendonly no`/);
  });

  it('builds casedrop from the repo with a volume for its data dir', () => {
    const svc = compose.services.casedrop!;
    expect(svc.build).toBe('.');
    const dataDir = svc.environment?.CASEDROP_DATA_DIR;
    expect(svc.volumes?.some((v) => v.endsWith(`:${dataDir}`))).toBe(true);
  });

  it('publishes ports on loopback only', () => {
    for (const p of compose.services.casedrop?.ports ?? []) expect(p.startsWith('127.0.0.1:')).toBe(true);
  });
});
