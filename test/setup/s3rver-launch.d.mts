import type { ChildProcess } from 'node:child_process';

export interface LaunchedS3rver {
  child: ChildProcess;
  /** `http://127.0.0.1:PORT` */
  endpoint: string;
  /** SIGTERM, then SIGKILL after 5 s; resolves once the server has exited. */
  stop(): Promise<void>;
}

export function launchS3rver(directory: string): Promise<LaunchedS3rver>;
