import { describe, expect, it } from 'vitest';
import { binding } from '@snapfleet/native';
import { checkRunLookups } from './run-lookups.testing.js';

describe('RunReader with the native addon (runFind)', () => {
  it('is the path taken here', () => {
    expect(typeof binding?.runFind).toBe('function');
    expect(typeof binding?.runFindBatch).toBe('function');
  });

  it('finds every record, misses absent ids, picks a pack not excluded among duplicates, alone and in batches', async () => {
    await checkRunLookups();
  });
});
