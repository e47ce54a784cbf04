/** The `snapfleet` command tree. Built over a CliContext so tests can run it in-process. */
import { Command, CommanderError } from 'commander';
import type { CliContext } from './context.js';
import { registerInit } from './commands/init.js';
import { registerArchive } from './commands/archive.js';
import { registerRestore } from './commands/restore.js';
import { registerVerify } from './commands/verify.js';
import { registerSnapshots } from './commands/snapshots.js';
import { registerForget } from './commands/forget.js';
import { registerPrune } from './commands/prune.js';
import { registerBoard } from './commands/board.js';
import { registerRun } from './commands/run.js';
import { registerPlanner } from './commands/planner.js';
import { registerWorker } from './commands/worker.js';
import { registerStatus } from './commands/status.js';
import { registerBackupNow } from './commands/backup-now.js';
import { registerDemo } from './commands/demo.js';
import { EXIT, errorLine, exitCodeFor } from './exit-codes.js';

export const VERSION = '0.1.0';

export async function runCli(argv: string[], ctx: CliContext): Promise<number> {
  let exitCode: number = EXIT.ok;
  const program = new Command('snapfleet')
    .description('backup and disaster recovery for block volumes')
    .version(VERSION)
    .exitOverride()
    .configureOutput({ writeOut: (s) => ctx.stdout.write(s), writeErr: (s) => ctx.stderr.write(s) });
  registerInit(program, ctx);
  registerArchive(program, ctx);
  registerRestore(program, ctx);
  registerVerify(program, ctx, (code) => (exitCode = code));
  registerSnapshots(program, ctx);
  registerForget(program, ctx);
  registerPrune(program, ctx);
  registerRun(program, ctx, (code) => (exitCode = code));
  registerPlanner(program, ctx);
  registerWorker(program, ctx);
  registerStatus(program, ctx);
  registerBackupNow(program, ctx);
  registerDemo(program, ctx);
  registerBoard(program, ctx);
  for (const cmd of program.commands) {
    cmd.exitOverride();
    for (const sub of cmd.commands) sub.exitOverride();
  }
  try {
    await program.parseAsync(argv, { from: 'user' });
    return exitCode;
  } catch (err) {
    if (err instanceof CommanderError) return err.exitCode === 0 ? EXIT.ok : EXIT.invalidInput;
    ctx.stderr.write(errorLine(err) + '\n');
    if (ctx.env.SNAPFLEET_DEBUG && err instanceof Error) ctx.stderr.write(`${err.stack}\n`);
    return exitCodeFor(err);
  }
}
