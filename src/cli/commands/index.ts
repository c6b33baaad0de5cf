/**
 * The list of subcommands. Add one line per command module (each exports
 * `register(program: Command): void`).
 */
import type { Command } from 'commander';
import { register as bench } from './bench.js';
import { register as attest } from './attest.js';
import { register as train } from './train.js';
import { register as worker } from './worker.js';
import { register as demo } from './demo.js';
import { register as keygen } from './keygen.js';
import { register as predict } from './predict.js';
import { register as serve } from './serve.js';
import { register as ownerkey } from './ownerkey.js';
import { register as upload } from './upload.js';
import { register as trainRemote } from './train-remote.js';
import { register as download } from './download.js';
import { register as query } from './query.js';
import { register as exportModel } from './export.js';
import { register as importModel } from './import.js';
import { register as report } from './report.js';

type Registrar = (program: Command) => void;

const registrars: Registrar[] = [
  bench,
  attest,
  train,
  worker,
  demo,
  keygen,
  predict,
  serve,
  ownerkey,
  upload,
  trainRemote,
  download,
  query,
  exportModel,
  importModel,
  report,
  // (command modules are appended here)
];

export function registerCommands(program: Command): void {
  for (const r of registrars) r(program);
}
