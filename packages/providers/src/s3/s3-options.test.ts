import { inspect } from 'node:util';
import { describe, expect, it } from 'vitest';
import { InvalidInputError } from '@snapfleet/shared';
import { DEFAULT_MAX_ATTEMPTS, DEFAULT_MULTIPART_THRESHOLD, DEFAULT_PART_SIZE, parseS3Url, s3ClientConfig, s3OptionsFromEnv } from './s3-options.js';

describe('parseS3Url', () => {
  it.each([
    ['s3://bucket', 'bucket', ''],
    ['s3://bucket/', 'bucket', ''],
    ['s3://my.bucket-1/repo', 'my.bucket-1', 'repo/'],
    ['s3://bucket/a/b/', 'bucket', 'a/b/'],
  ])('parses %s', (url, bucket, prefix) => {
    expect(parseS3Url(url)).toEqual({ bucket, prefix });
  });

  it.each(['s3:/bucket', 'http://bucket/x', 's3://b', 's3://bucket/a//b', 's3://bucket/../x', 's3://bucket/x?y=1'])('rejects %s', (url) => {
    expect(() => parseS3Url(url)).toThrow(InvalidInputError);
  });

  it('rejects credentials in the URL without echoing them', () => {
    const error = (() => {
      try {
        parseS3Url('s3://AKIAEXAMPLE:topsecret@bucket/repo');
      } catch (err) {
        return err as InvalidInputError;
      }
      throw new Error('accepted a URL with credentials');
    })();
    expect(error.field).toBe('repo');
    expect(error.message).not.toContain('topsecret');
  });
});

describe('s3OptionsFromEnv', () => {
  it('uses AWS defaults with no endpoint: checksums when supported, virtual-host style, SDK credential chain', () => {
    const options = s3OptionsFromEnv('s3://bucket/repo', {});
    expect(options).toEqual({
      bucket: 'bucket',
      prefix: 'repo/',
      forcePathStyle: false,
      checksum: 'when-supported',
      multipartThresholdBytes: DEFAULT_MULTIPART_THRESHOLD,
      partSizeBytes: DEFAULT_PART_SIZE,
      uploadConcurrency: 4,
    });
    const config = s3ClientConfig(options);
    expect(config.requestChecksumCalculation).toBe('WHEN_SUPPORTED');
    expect(config.credentials).toBeUndefined();
    expect(config.region).toBeUndefined();
  });

  it('defaults to path style and when-required checksums for a custom endpoint', () => {
    const options = s3OptionsFromEnv('s3://bucket', { AWS_ENDPOINT_URL: 'http://127.0.0.1:9000/' });
    expect(options).toMatchObject({ endpoint: 'http://127.0.0.1:9000', forcePathStyle: true, checksum: 'when-required', region: 'us-east-1' });
    const config = s3ClientConfig(options);
    expect(config.requestChecksumCalculation).toBe('WHEN_REQUIRED');
    expect(config.responseChecksumValidation).toBe('WHEN_REQUIRED');
  });

  it('reads the S3-specific endpoint, region, checksum and sizes', () => {
    const options = s3OptionsFromEnv('s3://bucket', {
      AWS_ENDPOINT_URL: 'http://general:1',
      AWS_ENDPOINT_URL_S3: 'https://s3.example.com',
      AWS_DEFAULT_REGION: 'eu-west-1',
      SNAPFLEET_S3_CHECKSUM: 'WHEN-SUPPORTED',
      SNAPFLEET_S3_FORCE_PATH_STYLE: 'false',
      SNAPFLEET_S3_MULTIPART_THRESHOLD: '64MiB',
      SNAPFLEET_S3_PART_SIZE: '16777216',
    });
    expect(options).toMatchObject({
      endpoint: 'https://s3.example.com',
      region: 'eu-west-1',
      checksum: 'when-supported',
      forcePathStyle: false,
      multipartThresholdBytes: 64 * 1024 * 1024,
      partSizeBytes: 16 * 1024 * 1024,
    });
  });

  it.each([
    [{ SNAPFLEET_S3_CHECKSUM: 'always' }, 'SNAPFLEET_S3_CHECKSUM'],
    [{ SNAPFLEET_S3_PART_SIZE: '1MiB' }, 'partSizeBytes'],
    [{ SNAPFLEET_S3_PART_SIZE: 'big' }, 'SNAPFLEET_S3_PART_SIZE'],
    [{ SNAPFLEET_S3_MULTIPART_THRESHOLD: '6MiB' }, 'multipartThresholdBytes'],
    [{ SNAPFLEET_S3_FORCE_PATH_STYLE: 'maybe' }, 'SNAPFLEET_S3_FORCE_PATH_STYLE'],
    [{ AWS_ENDPOINT_URL_S3: 'ftp://x' }, 'AWS_ENDPOINT_URL_S3'],
    [{ AWS_ACCESS_KEY_ID: 'only-the-id' }, 'AWS_ACCESS_KEY_ID'],
  ])('rejects %o naming the field %s', (env, field) => {
    let error: unknown;
    try {
      s3OptionsFromEnv('s3://bucket', env);
    } catch (err) {
      error = err;
    }
    expect(error).toBeInstanceOf(InvalidInputError);
    expect((error as InvalidInputError).field).toBe(field);
  });

  it('makes six attempts per request unless AWS_MAX_ATTEMPTS says otherwise', () => {
    expect(s3ClientConfig(s3OptionsFromEnv('s3://bucket', {})).maxAttempts).toBe(DEFAULT_MAX_ATTEMPTS);
    expect(DEFAULT_MAX_ATTEMPTS).toBe(6);
    const options = s3OptionsFromEnv('s3://bucket', { AWS_MAX_ATTEMPTS: ' 3 ' });
    expect(options.maxAttempts).toBe(3);
    expect(s3ClientConfig(options).maxAttempts).toBe(3);
    for (const bad of ['0', '21', 'many', '2.5', '-1']) {
      expect(() => s3OptionsFromEnv('s3://bucket', { AWS_MAX_ATTEMPTS: bad }), bad).toThrow(InvalidInputError);
    }
  });

  it('keeps static credentials out of logs and JSON', () => {
    const options = s3OptionsFromEnv('s3://bucket', { AWS_ACCESS_KEY_ID: 'AKIDEXAMPLE', AWS_SECRET_ACCESS_KEY: 'wJalrXUtnFEMI', AWS_SESSION_TOKEN: 'tok' });
    for (const rendering of [JSON.stringify(options), inspect(options, { depth: 5 }), String(options.credentials)]) {
      expect(rendering).not.toContain('AKIDEXAMPLE');
      expect(rendering).not.toContain('wJalrXUtnFEMI');
      expect(rendering).not.toContain('tok"');
    }
    expect(s3ClientConfig(options).credentials).toEqual({ accessKeyId: 'AKIDEXAMPLE', secretAccessKey: 'wJalrXUtnFEMI', sessionToken: 'tok' });
  });
});
