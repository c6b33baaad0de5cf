/**
 * What the benches parse alike: integer flags (the CLI's own check) and the
 * input shape of a built-in model.
 */
import { intOption } from '../src/flags/numbers.js';

/** The integer value of flag `what` (≥ min), or throws naming the flag. */
export function int(s: string, what: string, min: number): number {
  return intOption(what, min)(s);
}

/** [C, H, W] of a built-in model's input: MNIST models 1×28×28, the others CIFAR-10's 3×32×32. */
export function inputShape(model: string): [number, number, number] {
  return model.startsWith('mnist') ? [1, 28, 28] : [3, 32, 32];
}
