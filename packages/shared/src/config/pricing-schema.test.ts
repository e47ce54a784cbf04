import { describe, expect, it } from 'vitest';
import { InvalidInputError } from '../errors.js';
import { parseFleetConfig } from './parse-fleet-config.js';
import { defaultPricing } from './pricing-schema.js';

const base = 'repositories: { main: { url: ./repo } }\n';

describe('the pricing section', () => {
  it('defaults to the us-east-1 list prices and the documented assumptions', () => {
    expect(defaultPricing()).toEqual({
      region: 'us-east-1',
      ebs: { snapshotStorageGBMonth: 0.05, getSnapshotBlockPer1000: 0.003, listBlocksPer1000: 0.0006 },
      s3: {
        storageGBMonth: { STANDARD: 0.023, STANDARD_IA: 0.0125, GLACIER_IR: 0.004, GLACIER: 0.0036, DEEP_ARCHIVE: 0.00099 },
        putPer1000: { STANDARD: 0.005, STANDARD_IA: 0.01, GLACIER_IR: 0.02, GLACIER: 0.03, DEEP_ARCHIVE: 0.05 },
        getPer1000: 0.0004,
      },
      assumptions: { dailyChangeRate: 0.03, storedRatio: 0.5, writtenShare: 1, historyMonths: 12 },
    });
    expect(parseFleetConfig(base, 'fleet.yaml').pricing).toBeUndefined();
  });

  it('takes overrides of single prices, keeping the other defaults', () => {
    const c = parseFleetConfig(
      base + 'pricing: { region: eu-west-1, s3: { storageGBMonth: { STANDARD: 0.024 } }, assumptions: { dailyChangeRate: 0.01 } }\n',
      'fleet.yaml',
    );
    expect(c.pricing?.region).toBe('eu-west-1');
    expect(c.pricing?.s3.storageGBMonth).toMatchObject({ STANDARD: 0.024, DEEP_ARCHIVE: 0.00099 });
    expect(c.pricing?.assumptions).toEqual({ dailyChangeRate: 0.01, storedRatio: 0.5, writtenShare: 1, historyMonths: 12 });
  });

  it.each([
    ['pricing: { ebs: { snapshotStorageGBMonth: -1 } }', 'pricing.ebs.snapshotStorageGBMonth: must be 0 or more'],
    ['pricing: { s3: { putPer1000: { GLACIER: "cheap" } } }', 'pricing.s3.putPer1000.GLACIER: must be a price in dollars'],
    ['pricing: { s3: { storageGBMonth: { ONEZONE_IA: 0.01 } } }', 'pricing.s3.storageGBMonth'],
    ['pricing: { assumptions: { dailyChangeRate: 3 } }', 'pricing.assumptions.dailyChangeRate: must be from 0 to 1'],
    ['pricing: { assumptions: { historyMonths: 0 } }', 'pricing.assumptions.historyMonths: must be at least 1'],
  ])('refuses %s, naming the field', (line, message) => {
    let error: unknown;
    try {
      parseFleetConfig(base + line + '\n', 'fleet.yaml');
    } catch (err) {
      error = err;
    }
    expect(error).toBeInstanceOf(InvalidInputError);
    expect((error as InvalidInputError).message).toContain(message);
    expect((error as InvalidInputError).field).toMatch(/^pricing\./);
  });
});
