/**
 * `goten export --model-file <checkpoint> --format onnx --out model.onnx [--tee simulated]`
 *
 * Writes the checkpoint's network as a standard ONNX model (src/onnx/export.ts): input float32 NCHW pixels
 * in [0, 1] with a dynamic batch, the checkpoint's normalisation inside the graph, output the logits.
 * A sealed checkpoint is opened with the TEE provider's sealing key, as `goten predict` does: exporting
 * writes the model in plaintext, which in a secure deployment is the model owner's decision (the owner
 * gets the plaintext model from `goten download` anyway).
 */
import { writeFileSync } from 'node:fs';
import { type Command, Option } from 'commander';
import type { TeeKind } from '../../tee/provider.js';
import { TEE_KINDS } from '../../tee/providers/index.js';
import { checkpointToOnnx } from '../../onnx/export.js';
import { encodeModel } from '../../onnx/proto.js';
import { loadModelFile, memoSealer } from '../checkpoint-io.js';

interface ExportFlags {
  modelFile: string;
  format: string;
  out: string;
  tee: TeeKind;
}

export function register(program: Command): void {
  program
    .command('export')
    .description('write a checkpoint as a standard ONNX model (inference form, normalisation inside, logits out)')
    .requiredOption('--model-file <checkpoint>', 'a checkpoint written by goten train --save (or goten download / goten import)')
    .addOption(new Option('--format <f>', 'output format').choices(['onnx']).default('onnx'))
    .requiredOption('--out <file>', 'where to write the model')
    .addOption(new Option('--tee <kind>', 'TEE provider whose key opens a sealed checkpoint').choices([...TEE_KINDS]).default('simulated'))
    .action(async (f: ExportFlags) => {
      const ckpt = await loadModelFile(f.modelFile, memoSealer(f.tee));
      const bytes = encodeModel(checkpointToOnnx(ckpt, f.modelFile));
      writeFileSync(f.out, bytes);
      process.stderr.write(`wrote ${f.out}: ONNX opset 17, ${(bytes.length / 1024).toFixed(1)} KiB, input [batch,${ckpt.info.inputShape.join(',')}] in [0, 1] → logits [batch,${ckpt.info.numClasses}]\n`);
    });
}
