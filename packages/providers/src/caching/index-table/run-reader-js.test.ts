import { describe, expect, it, vi } from 'vitest';
import { binding } from '@snapfleet/native';
import { checkRunLookups } from './run-lookups.testing.js';

vi.mock('@snapfleet/native', () => ({ binding: undefined, loadError: 'hidden by this test' }));

describe('RunReader without the native addon', () => {
  it('is the path taken here', () => {
    expect(binding).toBeUndefined();
  });

  it('answers as the native lookup does, alone and in batches', async () => {
    await checkRunLookups();
  });
});
