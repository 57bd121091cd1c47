#!/usr/bin/env node
// Keeps imports one-way (design.md "Planes and layers"): each layer lists the layers it may
// import from. Fails with every offending import as `file:line: layer X must not import Y`.
import { readdirSync, readFileSync, statSync } from 'node:fs';
import path from 'node:path';

const ROOT = path.resolve(path.dirname(new URL(import.meta.url).pathname), '..');

// Layer of a file = first matching prefix. Order matters (more specific first).
const LAYERS = [
  ['src/util/', 'util'],
  ['src/sip/', 'sip'],
  ['src/store/', 'store'],
  ['src/cluster/', 'cluster'],
  ['src/config/', 'config'],
  ['src/agents/', 'agents'],
  ['src/vendors/', 'vendors'],
  ['src/call/', 'call'],
  ['src/api/', 'api'],
  ['media/', 'media'],
  ['src/', 'process'],
  ['bench/', 'bench'],
  ['test/', 'test'],
];

const ALLOWED = {
  // util: dependency-free helpers every layer may use (the fault boundary).
  util: ['util'],
  sip: ['sip', 'util'],
  config: ['config', 'util'],
  media: ['media', 'util'],
  store: ['store', 'util'],
  // cluster: agent ownership and the outbox across nodes in Redis; names no platform and no call.
  cluster: ['cluster', 'store', 'util'],
  agents: ['agents', 'config', 'store', 'vendors', 'util'],
  // The simulator's call placer speaks SIP and RTP to the gateway like LiveVox would.
  vendors: ['vendors', 'config', 'sip', 'media', 'util'],
  call: ['call', 'sip', 'media', 'agents', 'vendors', 'config', 'store', 'util'],
  api: ['api', 'call', 'agents', 'config', 'vendors', 'util'],
  process: ['process', 'api', 'call', 'agents', 'vendors', 'config', 'sip', 'media', 'store', 'cluster', 'util'],
  bench: null,
  test: null,
};

function layerOf(rel) {
  for (const [prefix, layer] of LAYERS) if (rel.startsWith(prefix)) return layer;
  return null;
}

function walk(dir, out) {
  for (const name of readdirSync(dir)) {
    if (name === 'node_modules' || name === 'dist' || name.startsWith('.')) continue;
    const p = path.join(dir, name);
    if (statSync(p).isDirectory()) walk(p, out);
    else if (/\.(ts|mts|js|mjs)$/.test(name)) out.push(p);
  }
  return out;
}

const IMPORT_RE = /(?:^|\n)\s*(?:import|export)\b[^'"]*?from\s*['"]([^'"]+)['"]|import\(\s*['"]([^'"]+)['"]\s*\)/g;
const problems = [];
for (const top of ['src', 'media']) {
  for (const file of walk(path.join(ROOT, top), [])) {
    const rel = path.relative(ROOT, file).split(path.sep).join('/');
    const from = layerOf(rel);
    const allowed = ALLOWED[from];
    if (!allowed) continue;
    const text = readFileSync(file, 'utf8');
    for (const m of text.matchAll(IMPORT_RE)) {
      const spec = m[1] ?? m[2];
      if (!spec.startsWith('.')) continue;
      const target = path.relative(ROOT, path.resolve(path.dirname(file), spec)).split(path.sep).join('/');
      const to = layerOf(target);
      // Tests beside a layer may use the shared test helpers (peers, fake engines); nothing else may.
      if (to === 'test' && rel.endsWith('.test.ts')) continue;
      // Each platform's gateway.yaml section is declared with the platform; the config loader may
      // read those schemas (zod only, nothing that runs), and nothing else of src/vendors.
      if (from === 'config' && to === 'vendors' && /^src\/vendors\/([a-z0-9-]+\/)?settings\.(ts|js)$/.test(target.replace(/\.js$/, '.ts'))) continue;
      // ...and those schemas stay schemas: a settings file imports config helpers and settings only.
      if (/^src\/vendors\/([a-z0-9-]+\/)?settings\.ts$/.test(rel) && !(to === 'config' || /settings\.(ts|js)$/.test(target))) {
        const line = text.slice(0, m.index + m[0].length).split('\n').length;
        problems.push(`${rel}:${line}: a platform's settings schema may import only config helpers and settings (${spec})`);
        continue;
      }
      if (to && !allowed.includes(to)) {
        const line = text.slice(0, m.index + m[0].length).split('\n').length;
        problems.push(`${rel}:${line}: layer '${from}' must not import '${to}' (${spec})`);
      }
    }
  }
}
if (problems.length) {
  console.error(problems.join('\n'));
  console.error(`${problems.length} import(s) break the one-way layering`);
  process.exit(1);
}
console.log('imports: one-way layering OK');
