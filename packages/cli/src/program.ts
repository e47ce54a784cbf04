/** The `snapfleet` command tree. Built over a CliContext so tests can run it in-process. */
import { Command, CommanderError } from 'commander';
import type { CliContext } from './context.js';
import { EXIT, errorLine, exitCodeFor } from './exit-codes.js';

export const VERSION = '0.1.0';

type SetExitCode = (code: number) => void;
type Register = (program: Command, ctx: CliContext, setExitCode: SetExitCode) => void;

/**
 * Every command, in --help order, loaded on demand: a process imports only the command it runs
 * (the fleet's BullMQ, Redis and logging stack costs an archive or a restore about 40 MiB and a
 * third of a second otherwise). --help, `help` and unknown commands load them all.
 */
const COMMANDS: Record<string, () => Promise<Register>> = {
  init: async () => (await import('./commands/init.js')).registerInit,
  archive: async () => (await import('./commands/archive.js')).registerArchive,
  restore: async () => (await import('./commands/restore.js')).registerRestore,
  verify: async () => (await import('./commands/verify.js')).registerVerify,
  snapshots: async () => (await import('./commands/snapshots.js')).registerSnapshots,
  forget: async () => (await import('./commands/forget.js')).registerForget,
  prune: async () => (await import('./commands/prune.js')).registerPrune,
  maintenance: async () => (await import('./commands/maintenance.js')).registerMaintenance,
  migrate: async () => (await import('./commands/migrate.js')).registerMigrate,
  copy: async () => (await import('./commands/copy.js')).registerCopy,
  key: async () => (await import('./commands/key.js')).registerKey,
  unlock: async () => (await import('./commands/unlock.js')).registerUnlock,
  repair: async () => (await import('./commands/repair.js')).registerRepair,
  run: async () => (await import('./commands/run.js')).registerRun,
  planner: async () => (await import('./commands/planner.js')).registerPlanner,
  worker: async () => (await import('./commands/worker.js')).registerWorker,
  status: async () => (await import('./commands/status.js')).registerStatus,
  plan: async () => (await import('./commands/plan.js')).registerPlan,
  audit: async () => (await import('./commands/audit.js')).registerAudit,
  retention: async () => (await import('./commands/retention.js')).registerRetention,
  'backup-now': async () => (await import('./commands/backup-now.js')).registerBackupNow,
  demo: async () => (await import('./commands/demo.js')).registerDemo,
  board: async () => (await import('./commands/board.js')).registerBoard,
};

/** The command argv names: top-level options take no values, so it is the first non-option. */
function commandsToLoad(argv: string[]): string[] {
  const name = argv.find((a) => !a.startsWith('-'));
  if (name !== undefined && Object.hasOwn(COMMANDS, name)) return [name];
  // `snapfleet --version` (what a script or a package check runs) needs no command at all.
  if (argv.length === 1 && (argv[0] === '--version' || argv[0] === '-V')) return [];
  return Object.keys(COMMANDS);
}

export async function runCli(argv: string[], ctx: CliContext): Promise<number> {
  let exitCode: number = EXIT.ok;
  const program = new Command('snapfleet')
    .description('backup and disaster recovery for block volumes')
    .version(VERSION)
    .exitOverride()
    .configureOutput({ writeOut: (s) => ctx.stdout.write(s), writeErr: (s) => ctx.stderr.write(s) });
  const setExitCode: SetExitCode = (code) => (exitCode = code);
  // Commander treats `unknown --help` as a request for the general help, and exits 0: a script
  // that typed a command wrong (`snapfleet replicate --help`) must hear that it does not exist.
  const name = argv.find((a) => !a.startsWith('-'));
  if (name !== undefined && name !== 'help' && !Object.hasOwn(COMMANDS, name)) {
    ctx.stderr.write(`snapfleet: unknown command '${name}' (see snapfleet --help)\n`);
    return EXIT.invalidInput;
  }
  for (const name of commandsToLoad(argv)) (await COMMANDS[name]!())(program, ctx, setExitCode);
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
