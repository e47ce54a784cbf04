/**
 * The structured logger planner and worker take: the subset of pino's API they use, so they
 * depend on no logging library and tests can pass a silent or capturing one.
 */
export interface FleetLogger {
  debug(obj: object, msg?: string): void;
  info(obj: object, msg?: string): void;
  warn(obj: object, msg?: string): void;
  error(obj: object, msg?: string): void;
  child(bindings: object): FleetLogger;
}

export const silentLogger: FleetLogger = {
  debug: () => {},
  info: () => {},
  warn: () => {},
  error: () => {},
  child: () => silentLogger,
};
