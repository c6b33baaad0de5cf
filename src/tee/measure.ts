/**
 * Code-bundle measurement for the simulated TEE (the analogue of MRENCLAVE): SHA-256 over a canonical
 * listing of every regular file under the bundle root, sorted by relative path ('/'-separated, byte order):
 *
 *     measurement = SHA-256( concat over files of  relpath ‖ 0x00 ‖ hex(SHA-256(file bytes)) ‖ "\n" )
 *
 * Deterministic for identical trees (independent of mtimes, directory order and the absolute location), and
 * any change to any file, name or the file set changes it. Symlinks and other non-regular files are skipped.
 * The default root is the directory tree the running code was loaded from (src/ under tsx, dist/src/ when
 * built), so a client pins the measurement of the exact build it audited.
 */
import { createHash } from 'node:crypto';
import { lstatSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

export interface BundleMeasurement {
  root: string;
  digest: Uint8Array;
  files: number;
}

/** The code bundle this module belongs to: src/ (sources) or dist/src/ (compiled). */
export function defaultCodeRoot(): string {
  return fileURLToPath(new URL('..', import.meta.url));
}

function listFiles(root: string, rel: string, out: string[]): void {
  const dir = rel ? join(root, rel) : root;
  for (const name of readdirSync(dir)) {
    const r = rel ? `${rel}/${name}` : name;
    const st = lstatSync(join(root, r));
    if (st.isDirectory()) listFiles(root, r, out);
    else if (st.isFile()) out.push(r);
  }
}

const cache = new Map<string, BundleMeasurement>();

export function measureCodeBundle(root = defaultCodeRoot(), useCache = true): BundleMeasurement {
  const hit = cache.get(root);
  if (useCache && hit) return hit;
  const files: string[] = [];
  listFiles(root, '', files);
  files.sort((a, b) => (Buffer.compare(Buffer.from(a), Buffer.from(b))));
  const h = createHash('sha256');
  for (const f of files) {
    const fileHash = createHash('sha256').update(readFileSync(join(root, f))).digest('hex');
    h.update(`${f}\0${fileHash}\n`);
  }
  const m = { root, digest: new Uint8Array(h.digest()), files: files.length };
  cache.set(root, m);
  return m;
}
