export {
  HostIndexTable,
  DEFAULT_BUILD_RECORDS,
  DEFAULT_MAX_DISK_RUNS,
  RESIDENT_RUN_RECORDS,
  RESIDENT_TOTAL_RECORDS,
  type HostIndexTableOptions,
} from './host-index-table.js';
// The run files themselves, for tools that build or measure a table offline (test/bench).
export { RunWriter, sortRecords } from './run-writer.js';
export { RunReader } from './run-reader.js';
export { RECORD_BYTES, fanoutBitsFor } from './run-format.js';
