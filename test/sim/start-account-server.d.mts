/** Types of start-account-server.mjs for the TypeScript tests. */

export interface SimCounts {
  [api: string]: number;
}

export interface SimSecond {
  /** Epoch seconds. */
  t: number;
  served: SimCounts;
  throttled: SimCounts;
  errors: SimCounts;
  timeouts: SimCounts;
  failed: SimCounts;
}

export interface SimStatsSnapshot {
  startedAt: number;
  now: number;
  quotas: Record<string, { perSecond: number; burst: number } | null>;
  totals: {
    served: SimCounts;
    /** By API, then by error name (and Reason): "RequestThrottledException/ACCOUNT_THROTTLED". */
    throttled: Record<string, SimCounts>;
    errors: SimCounts;
    timeouts: SimCounts;
    failed: SimCounts;
  };
  /** Per block API that served anything: its rate over the seconds from its first to its last served request. */
  blocks: Record<
    string,
    { activeSeconds: number; meanPerSecond: number; peakPerSecond: number; steadyPerSecond: number; quotaPerSecond: number | null; utilisation: number | null }
  >;
  seconds: SimSecond[];
}

export interface AccountServer {
  url: string;
  /** The server's process id. */
  pid: number;
  stderr(): string;
  env(): Record<string, string>;
  stats(): Promise<SimStatsSnapshot>;
  stop(): Promise<SimStatsSnapshot>;
}

/** `settings`: overrides of sim-settings.mjs's DEFAULT_SIM_SETTINGS, at any depth. */
export declare function startAccountServer(options: { worldDir: string; settings?: object }): Promise<AccountServer>;
