/**
 * `goten import <model.onnx> --out ckpt.safetensors [--data <spec>] [--seal] [--tee simulated]`
 *
 * Turns an ONNX model (this project's export, or PyTorch's torch.onnx.export of an equivalent network;
 * docs/onnx.md) into a checkpoint that `goten predict` / `goten serve` run in plain, quantized or secure
 * mode. Fails with the first unsupported operator, attribute or shape named. --data records the data spec
 * the model belongs to (the default data of `goten predict`); an exported model carries its own.
 */
import { readFileSync } from 'node:fs';
import { type Command, Option } from 'commander';
import { saveCheckpoint } from '../../nn/checkpoint.js';
import { parseDataSpec, formatDataSpec } from '../../data/spec.js';
import type { TeeKind } from '../../tee/provider.js';
import { TEE_KINDS } from '../../tee/providers/index.js';
import { importOnnxBytes } from '../../onnx/import.js';
import { memoSealer } from '../checkpoint-io.js';

interface ImportFlags {
  out: string;
  data?: string;
  seal?: boolean;
  tee: TeeKind;
}

export function register(program: Command): void {
  program
    .command('import')
    .description('turn an ONNX model (Conv, Gemm, BatchNormalization, Relu, pools, Flatten, residual Add) into a checkpoint')
    .argument('<model.onnx>', 'the ONNX model')
    .requiredOption('--out <file>', 'checkpoint to write (safetensors)')
    .option('--data <spec>', "the data spec the model takes (default: the one an exported model records)")
    .option('--seal', 'seal the checkpoint to the TEE', false)
    .addOption(new Option('--tee <kind>', 'TEE provider whose key seals it').choices([...TEE_KINDS]).default('simulated'))
    .action(async (file: string, f: ImportFlags) => {
      const r = importOnnxBytes(readFileSync(file), file);
      for (const n of r.notes) process.stderr.write(`note: ${n}\n`);
      const ckpt = r.checkpoint;
      if (f.data !== undefined) ckpt.info.data = formatDataSpec(parseDataSpec(f.data));
      saveCheckpoint(f.out, ckpt, f.seal ? await memoSealer(f.tee)() : undefined);
      const layers = r.config.layers.length;
      process.stderr.write(
        `wrote ${f.out}: ${layers} layers, ${[...ckpt.params.values()].reduce((a, t) => a + t.data.length, 0)} parameters, ` +
          `input ${ckpt.info.inputShape.join('×')} → ${ckpt.info.numClasses} classes${ckpt.info.data ? `, data ${ckpt.info.data}` : ' (give --data to goten predict)'}\n`,
      );
    });
}
