#!/usr/bin/env -S node --import tsx
/**
 * How often onnxruntime (CPU) and `goten predict` agree on a data set's first test images.
 *
 *   goten predict --model-file ck.safetensors --data fashion-mnist --limit 1000 --classes > goten.txt
 *   node --import tsx scripts/onnx-agreement.ts --onnx m.onnx --data fashion-mnist --limit 1000 --classes goten.txt
 *
 * onnxruntime gets the images scaled to [0, 1] (the exported model normalises inside); goten.txt holds
 * `<index> <class> <label>` lines. Prints the agreement and exits 1 below --min (default 99.5 %).
 */
import { readFileSync } from 'node:fs';
import { parseArgs } from 'node:util';
import { loadDataset } from '../src/data/spec.js';
import { ortClasses, scaledImages } from './ort-classes.js';

const { values: a } = parseArgs({
  options: { onnx: { type: 'string' }, data: { type: 'string' }, limit: { type: 'string', default: '1000' }, classes: { type: 'string' }, min: { type: 'string', default: '99.5' } },
});
if (!a.onnx || !a.data || !a.classes) throw new Error('usage: --onnx m.onnx --data <spec> --limit n --classes goten-classes.txt');
const limit = Number(a.limit);
const data = loadDataset(a.data, { limitTrain: 1, limitTest: limit });
const goten = readFileSync(a.classes, 'utf8').trim().split('\n').map((l) => Number(l.split(' ')[1]));
const { classes } = await ortClasses(a.onnx, scaledImages(data.test, limit), data.inputShape);
if (goten.length !== classes.length) throw new Error(`${a.classes} has ${goten.length} predictions, onnxruntime made ${classes.length}`);
const same = classes.filter((c, i) => c === goten[i]).length;
const pct = (100 * same) / classes.length;
const labels = data.test.labels;
const acc = (cs: number[]) => ((100 * cs.filter((c, i) => c === labels[i]).length) / cs.length).toFixed(2);
process.stdout.write(
  `onnxruntime and goten predict agree on ${same}/${classes.length} images (${pct.toFixed(2)}%); ` +
    `accuracy onnxruntime ${acc(classes)}%, goten ${acc(goten)}%\n`,
);
process.exitCode = pct >= Number(a.min) ? 0 : 1;
