export { HostIndexTable, DEFAULT_BUILD_RECORDS, DEFAULT_MAX_RUNS, type HostIndexTableOptions } from './host-index-table.js';
