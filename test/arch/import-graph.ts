/**
 * The import graph of the repository's TypeScript modules, for the architecture tests
 * (layers.test.ts). TypeScript's own pre-parser lists every import / export-from /
 * side-effect import / dynamic import specifier, so a multi-line import or one inside a
 * comment-free template cannot be missed the way a regular expression would miss it.
 */
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { dirname, join, relative, resolve } from 'node:path';
import ts from 'typescript';

export interface ImportEdge {
  /** Importing file, relative to the repository root, '/'-separated. */
  readonly from: string;
  /** Imported file (a relative specifier resolved to its .ts source). */
  readonly to: string;
}

/** Every .ts file under `dirs` (relative to root), sorted, '/'-separated. */
export function tsFiles(root: string, dirs: readonly string[]): string[] {
  const out: string[] = [];
  const walk = (d: string): void => {
    for (const name of readdirSync(d).sort()) {
      const p = join(d, name);
      if (statSync(p).isDirectory()) walk(p);
      else if (name.endsWith('.ts')) out.push(relative(root, p).split('\\').join('/'));
    }
  };
  for (const d of dirs) walk(join(root, d));
  return out;
}

/** Relative import specifiers of one source text (package imports such as 'node:fs' are left out). */
export function relativeSpecifiers(text: string): string[] {
  return ts
    .preProcessFile(text, true, true)
    .importedFiles.map((f) => f.fileName)
    .filter((s) => s.startsWith('.'));
}

/** The edges between the given files; a specifier ending in .js names the .ts source next to it (NodeNext). */
export function importEdges(root: string, files: readonly string[]): ImportEdge[] {
  const edges: ImportEdge[] = [];
  for (const from of files) {
    for (const spec of relativeSpecifiers(readFileSync(join(root, from), 'utf8'))) {
      const target = resolve(dirname(join(root, from)), spec.replace(/\.js$/, '.ts'));
      edges.push({ from, to: relative(root, target).split('\\').join('/') });
    }
  }
  return edges;
}

/**
 * The import cycles (strongly connected components with more than one file, or a file importing itself),
 * each as a closed path of files, found with Tarjan's algorithm.
 */
export function importCycles(edges: readonly ImportEdge[]): string[][] {
  const next = new Map<string, string[]>();
  for (const e of edges) {
    if (!next.has(e.from)) next.set(e.from, []);
    next.get(e.from)!.push(e.to);
  }
  const index = new Map<string, number>();
  const low = new Map<string, number>();
  const stack: string[] = [];
  const onStack = new Set<string>();
  const components: string[][] = [];
  const visit = (v: string): void => {
    index.set(v, index.size);
    low.set(v, index.get(v)!);
    stack.push(v);
    onStack.add(v);
    for (const w of next.get(v) ?? []) {
      if (!index.has(w)) {
        visit(w);
        low.set(v, Math.min(low.get(v)!, low.get(w)!));
      } else if (onStack.has(w)) low.set(v, Math.min(low.get(v)!, index.get(w)!));
    }
    if (low.get(v) === index.get(v)) {
      const c: string[] = [];
      let w: string;
      do {
        w = stack.pop()!;
        onStack.delete(w);
        c.push(w);
      } while (w !== v);
      if (c.length > 1 || (next.get(v) ?? []).includes(v)) components.push(c);
    }
  };
  for (const v of [...next.keys()].sort()) if (!index.has(v)) visit(v);
  return components.map((c) => closedPath(c, next));
}

/** One cycle through every file of a strongly connected component is not always possible; a shortest cycle through its first file is, and names the edges to cut. */
function closedPath(component: readonly string[], next: ReadonlyMap<string, string[]>): string[] {
  const inside = new Set(component);
  const start = [...component].sort()[0];
  const parent = new Map<string, string>();
  const queue = [start];
  while (queue.length > 0) {
    const v = queue.shift()!;
    for (const w of next.get(v) ?? []) {
      if (!inside.has(w)) continue;
      if (w === start) {
        const path = [start];
        for (let u = v; u !== start; u = parent.get(u)!) path.splice(1, 0, u);
        return [...path, start];
      }
      if (!parent.has(w)) {
        parent.set(w, v);
        queue.push(w);
      }
    }
  }
  return [...component, component[0]];
}
