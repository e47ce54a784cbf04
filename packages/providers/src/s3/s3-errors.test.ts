import { inspect } from 'node:util';
import { S3ServiceException } from '@aws-sdk/client-s3';
import { describe, expect, it } from 'vitest';
import { InvalidInputError, NotFoundError, PermanentError, ThrottledError, TransientError } from '@snapfleet/shared';
import { classifyS3Error, redact } from './s3-errors.js';

const context = { op: 'get', location: 's3://bucket/repo', key: 'data/ab/abc' };

function serviceError(name: string, status: number, message = `${name} happened`): S3ServiceException {
  return new S3ServiceException({ name, $fault: status >= 500 ? 'server' : 'client', $metadata: { httpStatusCode: status, requestId: 'REQ1' }, message });
}

function systemError(code: string): Error {
  return Object.assign(new Error(`connect ${code} 10.0.0.1:443`), { code });
}

describe('classifyS3Error', () => {
  it.each([
    ['NoSuchKey', 404, NotFoundError],
    ['NotFound', 404, NotFoundError],
    ['SomethingMissing', 404, NotFoundError],
    ['InvalidRange', 416, InvalidInputError],
    ['SlowDown', 503, ThrottledError],
    ['ServiceUnavailable', 503, ThrottledError],
    ['ThrottlingException', 400, ThrottledError],
    ['TooManyRequestsException', 429, ThrottledError],
    ['InternalError', 500, TransientError],
    ['BadGateway', 502, TransientError],
    ['RequestTimeout', 400, TransientError],
    ['ExpiredToken', 400, TransientError],
    ['AccessDenied', 403, PermanentError],
    ['Forbidden', 403, PermanentError],
    ['InvalidAccessKeyId', 403, PermanentError],
    ['SignatureDoesNotMatch', 403, PermanentError],
    ['NoSuchBucket', 404, PermanentError],
    ['InvalidArgument', 400, PermanentError],
  ] as const)('maps %s (HTTP %i) to %o', (name, status, expected) => {
    const classified = classifyS3Error(serviceError(name, status), context);
    expect(classified).toBeInstanceOf(expected);
    expect(classified.message).toContain('s3://bucket/repo');
  });

  it.each(['ECONNRESET', 'ECONNREFUSED', 'ETIMEDOUT', 'EPIPE', 'EAI_AGAIN'])('maps the network error %s to TransientError', (code) => {
    expect(classifyS3Error(systemError(code), context)).toBeInstanceOf(TransientError);
  });

  it('maps SDK timeouts and retryable throttling hints', () => {
    expect(classifyS3Error(Object.assign(new Error('timed out'), { name: 'TimeoutError' }), context)).toBeInstanceOf(TransientError);
    const hinted = Object.assign(new Error('slow'), { name: 'Weird', $retryable: { throttling: true } });
    expect(classifyS3Error(hinted, context)).toBeInstanceOf(ThrottledError);
  });

  it('treats a missing credential chain and unknown errors as permanent', () => {
    const noCredentials = Object.assign(new Error('Could not load credentials from any providers'), { name: 'CredentialsProviderError' });
    const classified = classifyS3Error(noCredentials, context);
    expect(classified).toBeInstanceOf(PermanentError);
    expect(classified.message).toMatch(/no AWS credentials/);
    expect(classifyS3Error(new TypeError('bug'), context)).toBeInstanceOf(PermanentError);
  });

  it('says how many attempts were made when the retries ran out', () => {
    const sdk = new S3ServiceException({
      name: 'SlowDown',
      $fault: 'server',
      $metadata: { httpStatusCode: 503, attempts: 6 },
      message: 'Please reduce your request rate.',
    });
    expect(classifyS3Error(sdk, context).message).toBe(
      'S3 get s3://bucket/repo key data/ab/abc failed after 6 attempts (SlowDown, HTTP 503): Please reduce your request rate.',
    );
    expect(classifyS3Error(systemError('ECONNRESET'), { ...context, attempts: 3 }).message).toContain(
      'key data/ab/abc failed after 3 attempts (Error, ECONNRESET)',
    );
    expect(classifyS3Error(serviceError('InternalError', 500), context).message).not.toContain('attempts');
    // The SDK's handler names a reset connection TimeoutError: the message says what happened.
    const reset = Object.assign(new Error('read ECONNRESET'), { name: 'TimeoutError', code: 'ECONNRESET', $metadata: { attempts: 6 } });
    expect(classifyS3Error(reset, context).message).toBe('S3 get s3://bucket/repo key data/ab/abc failed after 6 attempts (ECONNRESET): read ECONNRESET');
  });

  it('passes engine errors through unchanged', () => {
    const original = new NotFoundError('already classified');
    expect(classifyS3Error(original, context)).toBe(original);
  });

  it('never carries credentials or the raw SDK error', () => {
    const leaky = serviceError(
      'SignatureDoesNotMatch',
      403,
      'bad signature for AKIAIOSFODNN7EXAMPLE at https://h/k?X-Amz-Credential=AKIAIOSFODNN7EXAMPLE%2F2024&X-Amz-Signature=deadbeef',
    );
    Object.assign(leaky, { AWSAccessKeyId: 'AKIAIOSFODNN7EXAMPLE', StringToSign: 'secret-ish' });
    const classified = classifyS3Error(leaky, context);
    const everything = `${classified.message} ${inspect(classified, { depth: 5 })} ${JSON.stringify(classified.cause)}`;
    expect(everything).not.toContain('AKIAIOSFODNN7EXAMPLE');
    expect(everything).not.toContain('deadbeef');
    expect(everything).not.toContain('secret-ish');
    expect(classified.cause).toEqual({ name: 'SignatureDoesNotMatch', code: undefined, httpStatusCode: 403, requestId: 'REQ1' });
  });
});

describe('redact', () => {
  it('removes access key ids and presigned URL signatures', () => {
    expect(redact('key ASIAXXXXXXXXXXXXXXXX used')).toBe('key [redacted-key-id] used');
    expect(redact('Credential=AKIA/2024/us-east-1, Signature=abc')).toBe('Credential=[redacted], Signature=[redacted]');
  });
});
