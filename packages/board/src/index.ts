/**
 * @snapfleet/board: Bull Board for the fleet's queues plus a small ops HTTP API (probes,
 * Prometheus metrics, job actions) behind token / basic-auth authentication with viewer and
 * operator roles. Configuration is passed in: parse the config file's board section with
 * parseBoardSection at the edge and hand the result to startBoard.
 */
export { startBoard } from './start-board.js';
export { createCompliancePage, PAGE_ROWS } from './compliance-page.js';
export {
  DEFAULT_PREFIX,
  type AuthOptions,
  type BoardLogger,
  type BoardOptions,
  type BoardUser,
  type ComplianceData,
  type ComplianceSource,
  type ExtraMetricsContext,
  type ExtraMetricsValue,
  type Role,
  type RunningBoard,
  type SecretValue,
} from './board-options.js';
export { DEFAULT_LISTEN, parseBoardConfigText, parseBoardSection, parseListen, type BoardSection } from './board-config.js';
export { constantTimeEqual } from './auth/credentials.js';
export { hashPassword, verifyPasswordHash } from './auth/password-hash.js';
export { JOB_STATES, type JobState, type QueueStats } from './queue-stats.js';
