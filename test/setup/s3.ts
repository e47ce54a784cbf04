/**
 * S3 test helpers for test/e2e. The implementation lives in @snapfleet/shared/testing so that the
 * packages' own tests (whose tsconfig rootDir is src/) can use it too.
 */
export { createTestBucket, type TestBucket } from '@snapfleet/shared/testing';
