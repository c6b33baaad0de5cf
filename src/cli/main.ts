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
  const msg = err instanceof Error ? err.message : String(err);
  process.stderr.write(`goten: ${msg}\n`);
  if (process.env.GOTEN_DEBUG && err instanceof Error && err.stack) process.stderr.write(err.stack + '\n');
  process.exitCode = 1;
}
