/**
 * The file operations hardware providers use, injectable so that tests can run the providers against a
 * fake directory tree (and a fake "kernel" reacting to writes) in a temp dir. All calls are synchronous:
 * pseudo-files (/dev/attestation, configfs) answer immediately or block in the kernel, and each attestation
 * runs once per key, not on a hot path.
 */
import { existsSync, mkdtempSync, readFileSync, rmdirSync, writeFileSync } from 'node:fs';

export interface ProviderFs {
  readFile(path: string): Buffer;
  /** must write `data` with a single write() call (Gramine and configfs act on each write) */
  writeFile(path: string, data: Uint8Array | string): void;
  exists(path: string): boolean;
  mkdtemp(prefix: string): string;
  /** non-recursive: configfs entries are removed with rmdir, never by deleting their attributes */
  rmdir(path: string): void;
}

export const nodeFs: ProviderFs = {
  readFile: (p) => readFileSync(p),
  writeFile: (p, d) => writeFileSync(p, d),
  exists: (p) => existsSync(p),
  mkdtemp: (prefix) => mkdtempSync(prefix),
  rmdir: (p) => rmdirSync(p),
};
