/**
 * The `goten` command. Each subcommand lives in src/cli/commands/<name>.ts and
 * exports `register(program)`; this file only wires them together.
 */
import { Command } from 'commander';
import { registerCommands } from './commands/index.js';

const program = new Command();
program
  .name('goten')
  .description('Goten-TS: train and serve neural networks with a TEE outsourcing linear layers to untrusted workers')
  .version('0.1.0')
  .showHelpAfterError();

registerCommands(program);

try {
  await program.parseAsync(process.argv);
} catch (err) {
  let msg = err instanceof Error ? err.message : String(err);
  // V8's words for a tensor too large to allocate: say what to change instead
  const huge = /^(Invalid typed array length: (\d+)|Array buffer allocation failed)$/.exec(msg);
  if (huge) {
    const size = huge[2] ? `a tensor of ${Number(huge[2]).toExponential(2)} elements` : 'a tensor';
    msg = `out of memory: ${size} cannot be allocated (${msg}); use a smaller --batch, --limit-train / --limit-test or model`;
  }
  process.stderr.write(`goten: ${msg}\n`);
  if (process.env.GOTEN_DEBUG && err instanceof Error && err.stack) process.stderr.write(err.stack + '\n');
  process.exitCode = 1;
}
