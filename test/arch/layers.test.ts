/**
 * The one-way architecture (docs/architecture.md): every module under src/ and bench/ belongs to a
 * layer, imports only from its own folder or from lower layers, and no import cycle exists. A new
 * upward import, a sideways import between folders of one layer, a folder missing from the table, or a
 * cycle fails here with the offending edges listed.
 */
import assert from 'node:assert/strict';
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';
import { type ImportEdge, importCycles, importEdges, tsFiles } from './import-graph.js';

const root = fileURLToPath(new URL('../..', import.meta.url));

/** Bottom to top; the same table, with the reasons, is in docs/architecture.md. */
export const LAYERS: readonly (readonly string[])[] = [
  ['src/field', 'src/tensor', 'src/flags'],
  ['src/addon'],
  ['src/backend', 'src/tee', 'src/net', 'src/data'],
  ['src/nn'],
  ['src/protocol', 'src/onnx', 'src/report'],
  ['src/roles', 'src/wire'],
  ['src/modes'],
  ['src/service', 'src/client'],
  ['bench', 'src/index.ts'],
  ['src/cli'],
];

/** The unit of the layer table a file belongs to: bench/ as a whole, a folder under src/, or a file at the top of src/. */
function unitOf(file: string): string {
  const parts = file.split('/');
  return parts[0] === 'src' ? `src/${parts[1]}` : parts[0];
}

function rankOf(unit: string): number {
  return LAYERS.findIndex((layer) => layer.includes(unit));
}

const files = tsFiles(root, ['src', 'bench']);
const edges = importEdges(root, files);
const show = (e: ImportEdge): string => `${e.from} → ${e.to}`;

describe('architecture: one-way layers', () => {
  it('every folder and file at the top of src/ is in the layer table (and the table names nothing missing)', () => {
    const entries = readdirSync(join(root, 'src'))
      .filter((n) => statSync(join(root, 'src', n)).isDirectory() || n.endsWith('.ts'))
      .map((n) => `src/${n}`);
    const listed = LAYERS.flat().filter((u) => u.startsWith('src/'));
    assert.deepEqual([...entries].sort(), [...listed].sort(), 'src/ and the layer table differ (docs/architecture.md)');
  });

  it("README's architecture map and docs/architecture.md name every folder of the table", () => {
    const readme = readFileSync(join(root, 'README.md'), 'utf8');
    const map = readme.slice(readme.indexOf('## Architecture'));
    const mapBlock = map.slice(map.indexOf('```'), map.indexOf('```', map.indexOf('```') + 3));
    const doc = readFileSync(join(root, 'docs/architecture.md'), 'utf8');
    const missing: string[] = [];
    for (const unit of LAYERS.flat()) {
      const name = unit === 'bench' ? 'bench/' : unit;
      if (!new RegExp(`^${name}\\s`, 'm').test(mapBlock)) missing.push(`README architecture map: ${name}`);
      const row = doc.split('\n').find((l) => l.startsWith('|') && l.includes(`\`${name}\``));
      const layer = row ? Number(row.split('|')[1].trim()) : NaN;
      if (layer !== rankOf(unit)) missing.push(`docs/architecture.md: ${name} (table row says layer ${layer}, the test's table ${rankOf(unit)})`);
    }
    assert.deepEqual(missing, []);
  });

  it('every import resolves to a file that exists', () => {
    const known = new Set(files);
    const dangling = edges.filter((e) => (e.to.startsWith('src/') || e.to.startsWith('bench/')) && !known.has(e.to));
    assert.deepEqual(dangling.map(show), []);
  });

  it('imports go only to the same folder or to a lower layer', () => {
    const upward = edges.filter((e) => {
      const [a, b] = [unitOf(e.from), unitOf(e.to)];
      return a !== b && !(rankOf(b) >= 0 && rankOf(b) < rankOf(a));
    });
    assert.deepEqual(
      upward.map((e) => `${show(e)}  (${unitOf(e.from)} is layer ${rankOf(unitOf(e.from))}, ${unitOf(e.to)} is layer ${rankOf(unitOf(e.to))})`),
      [],
      'imports that point up or sideways (docs/architecture.md lists the layers)',
    );
  });

  it('no module outside src/cli imports from src/cli or names a path into it', () => {
    const into = edges.filter((e) => unitOf(e.from) !== 'src/cli' && unitOf(e.to) === 'src/cli').map(show);
    // a spawned process reached by a path string is a dependency too (the launcher once started workers this way)
    const pathString = /['"`][^'"`\n]*\bcli\/[\w-]+\.(?:ts|js)['"`]/;
    const byPath = files.filter(
      (f) => unitOf(f) !== 'src/cli' && readFileSync(join(root, f), 'utf8').split('\n').some((line) => !/\bfrom\s*['"]/.test(line) && pathString.test(line)),
    );
    assert.deepEqual([...into, ...byPath.map((f) => `${f} names a file in src/cli`)], []);
  });

  it('no import cycle in src/ or bench/', () => {
    const cycles = importCycles(edges);
    assert.deepEqual(cycles.map((c) => c.join(' → ')), [], 'import cycles (cut one edge of each)');
  });
});
