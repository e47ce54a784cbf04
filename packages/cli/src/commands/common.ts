/** Options shared by the repository commands, declared once. */
import type { Command } from 'commander';

export function withRepoOptions(cmd: Command): Command {
  return cmd
    .option('-r, --repo <repo>', 'repository: a folder path or s3://bucket/prefix (default: $SNAPFLEET_REPOSITORY)')
    .option('--password-file <file>', 'read the repository password from a file (default: $SNAPFLEET_PASSWORD)')
    .option('--json', 'machine-readable output on stdout')
    .option('-q, --quiet', 'no progress output');
}

export function mib(n: number): string {
  return `${(n / 2 ** 20).toFixed(1)} MiB`;
}
