// What the numbers were measured on.
import { execFileSync } from 'node:child_process';
import os from 'node:os';
import process from 'node:process';

function fsType(dir) {
  try {
    return execFileSync('df', ['--output=fstype', dir], { encoding: 'utf8' }).trim().split('\n').pop();
  } catch {
    return 'unknown';
  }
}

export function machineInfo(workDir) {
  const cpus = os.cpus();
  return {
    nproc: os.availableParallelism?.() ?? cpus.length,
    cpu: cpus[0]?.model?.trim() ?? 'unknown',
    memoryGiB: +(os.totalmem() / 2 ** 30).toFixed(1),
    kernel: `${os.type()} ${os.release()}`,
    node: process.version,
    workFs: fsType(workDir),
  };
}
