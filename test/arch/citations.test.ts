/**
 * Every document the code and the docs cite is in this repository (docs/architecture.md): a cited `*.md`
 * path must resolve to a file here (relative to the citing file, to the repository root or to docs/), and
 * the names of design notes that were never part of the repository (DESIGN, goten-spec, node-performance,
 * reference/…, ../shared/…) must not come back. Web addresses (https://…) are public documents, not
 * repository files, and are left alone.
 */
import assert from 'node:assert/strict';
import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { test } from 'node:test';
import { fileURLToPath } from 'node:url';

const root = fileURLToPath(new URL('../..', import.meta.url));

/**
 * ONNX's own schema, copied unmodified (scripts/gen-onnx-schema.mjs checks it against the committed
 * descriptor): its `docs/IR.md` comments name files of ONNX's repository, not of this one. And this
 * file, which spells out the names it looks for.
 */
const VENDORED = new Set(['src/onnx/onnx.proto', 'test/arch/citations.test.ts']);

const TEXT = /\.(ts|mjs|cjs|js|md|cc|h|gyp|json|proto)$/;

function walk(dir: string): string[] {
  const out: string[] = [];
  for (const name of readdirSync(join(root, dir)).sort()) {
    const rel = `${dir}/${name}`;
    // build outputs, and third-party licence texts kept verbatim beside the test fixtures
    if (name === 'node_modules' || name === 'build' || name === 'licenses') continue;
    if (statSync(join(root, rel)).isDirectory()) out.push(...walk(rel));
    else if (TEXT.test(name) && !VENDORED.has(rel)) out.push(rel);
  }
  return out;
}

const files = ['src', 'docs', 'bench', 'native', 'test'].flatMap(walk).concat('README.md');
const OUTSIDE = /\bDESIGN(?:\.md)?\b|goten-spec|node-performance|\breference\/|\.\.\/shared\//;
/** A path ending in .md that is not part of a web address. */
const MD_PATH = /(?<![\w./:-])((?:\.{1,2}\/)*[\w-]+(?:\/[\w.-]+)*\.md)\b/g;

function resolves(from: string, cited: string): boolean {
  return [join(root, dirname(from), cited), join(root, cited), join(root, 'docs', cited)].some((p) => existsSync(p));
}

test('no file in src/, docs/, bench/, native/, test/ or README cites a document outside the repository', () => {
  const bad: string[] = [];
  for (const f of files) {
    readFileSync(join(root, f), 'utf8')
      .split('\n')
      .forEach((line, i) => {
        const where = `${f}:${i + 1}`;
        if (OUTSIDE.test(line)) bad.push(`${where}: names a document that is not in the repository: ${line.trim()}`);
        for (const m of line.matchAll(MD_PATH)) {
          if (!resolves(f, m[1])) bad.push(`${where}: cites ${m[1]}, which is not in the repository`);
        }
      });
  }
  assert.deepEqual(bad, []);
});

test('the citation check sees a citation of a missing document and accepts one of docs/', () => {
  assert.ok(OUTSIDE.test('see DESIGN §3 step 5') && OUTSIDE.test('(goten-spec §8.1)') && OUTSIDE.test('reference/node-performance.md §6'));
  const cited = (s: string) => [...s.matchAll(MD_PATH)].map((m) => m[1]);
  assert.deepEqual(cited('layouts per attestation.md §3 and docs/tee.md §2; https://github.com/onnx/onnx/blob/main/docs/IR.md'), [
    'attestation.md',
    'docs/tee.md',
  ]);
  assert.equal(resolves('src/tee/seal.ts', 'attestation.md'), false);
  assert.equal(resolves('src/tee/seal.ts', 'docs/tee.md'), true);
  assert.equal(resolves('docs/models.md', 'training.md'), true);
});
