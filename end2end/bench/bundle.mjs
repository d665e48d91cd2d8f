// The front end's size, module by module: raw and gzip -9 bytes of every .wasm and .js in a pkg
// dir (default: the one .ci/build-site made, ../target/site/pkg). "Every page" is what any full
// page load fetches before its route's chunks: frontend.js, the split loader and the main module.
//
// node bench/bundle.mjs [pkg-dir]
import { readdirSync, readFileSync } from 'node:fs';
import { join, dirname } from 'node:path';
import { fileURLToPath } from 'node:url';
import { gzipSync } from 'node:zlib';

const here = dirname(fileURLToPath(import.meta.url));
const dir = process.argv[2] || join(here, '..', '..', 'target', 'site', 'pkg');
const kb = (n) => (n / 1000).toFixed(1).padStart(8);
const files = readdirSync(dir)
  .filter((f) => f.endsWith('.wasm') || f.endsWith('.js'))
  .map((name) => {
    const bytes = readFileSync(join(dir, name));
    return { name, raw: bytes.length, gzip: gzipSync(bytes, { level: 9 }).length };
  })
  .sort((a, b) => b.gzip - a.gzip);
const everyPage = files.filter((f) => f.name.startsWith('frontend') || f.name.startsWith('__wasm_split'));
const sum = (fs, k) => fs.reduce((n, f) => n + f[k], 0);

console.log(`${'module'.padEnd(56)} ${'raw KB'.padStart(8)} ${'gzip KB'.padStart(8)}`);
for (const f of files) console.log(`${f.name.padEnd(56)} ${kb(f.raw)} ${kb(f.gzip)}`);
console.log(`${'every page loads (frontend.js, loader, main module)'.padEnd(56)} ${kb(sum(everyPage, 'raw'))} ${kb(sum(everyPage, 'gzip'))}`);
console.log(`${`all ${files.length} modules`.padEnd(56)} ${kb(sum(files, 'raw'))} ${kb(sum(files, 'gzip'))}`);
