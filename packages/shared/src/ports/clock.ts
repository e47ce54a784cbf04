/** Clock: the engine never reads the system time itself, so tests and replays pass their own. */
export interface Clock {
  now(): Date;
}
