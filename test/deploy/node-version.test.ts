import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';

/** The Node the image ships, the one developers pin and the ones npm accepts must agree. */
const LTS_MAJORS = [22, 24];

describe('Node version', () => {
  const froms = [...readFileSync('Dockerfile', 'utf8').matchAll(/^FROM node:(\d+)[-.\w]*/gm)].map((m) => Number(m[1]));
  const engines = (JSON.parse(readFileSync('package.json', 'utf8')) as { engines: { node: string } }).engines.node;

  it('builds and runs the image on a Node line with long-term support', () => {
    expect(froms.length).toBeGreaterThanOrEqual(2);
    for (const major of froms) expect(LTS_MAJORS).toContain(major);
  });

  it('pins the same line in .nvmrc, and engines accepts it and the Node the tests run on', () => {
    expect(Number(readFileSync('.nvmrc', 'utf8').trim())).toBe(froms[0]);
    // engines is a list of caret ranges, one per major line
    const majors = engines.split('||').map((range) => Number(/^\s*\^(\d+)\./.exec(range)?.[1]));
    expect(majors).toContain(froms[0]);
    expect(majors).toContain(Number(process.versions.node.split('.')[0]));
  });
});
