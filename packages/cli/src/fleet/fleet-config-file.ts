/**
 * Reading the fleet config file: the file system and the environment stay here, in the CLI, so
 * that `parseFleetConfig` (shared/config) remains pure text in, config out.
 */
import { readFile } from 'node:fs/promises';
import { dirname, resolve } from 'node:path';
import { InvalidInputError } from '@snapfleet/shared';
import { parseFleetConfig, type FleetConfig } from '@snapfleet/shared/config';
import type { Env } from '../context.js';

/** Reads and parses the config file; SNAPFLEET_BOARD_TOKEN in `env` replaces the board's token. */
export async function loadFleetConfig(path: string, env: Env): Promise<FleetConfig> {
  let text: string;
  try {
    text = await readFile(path, 'utf8');
  } catch (err) {
    throw new InvalidInputError(`cannot read config file ${path}: ${(err as NodeJS.ErrnoException).code ?? 'error'}`, 'config');
  }
  const boardToken = env.SNAPFLEET_BOARD_TOKEN || undefined;
  return parseFleetConfig(text, path, { baseDir: dirname(resolve(path)), ...(boardToken ? { boardToken } : {}) });
}
