import { describe, expect, it } from 'vitest';
import { NotFoundError, PermanentError, ThrottledError, TransientError } from '@snapfleet/shared';
import { EC2ServiceException } from '@aws-sdk/client-ec2';
import { classifyAwsError, isAwsNotFound, isQuotaThrottle } from './aws-errors.js';

/** An error shaped like the SDK's: EC2 puts the error code in `name` and `Code`. */
function ec2Error(name: string, status: number, message = `${name} happened`): EC2ServiceException {
  return new EC2ServiceException({ name, $fault: status >= 500 ? 'server' : 'client', $metadata: { httpStatusCode: status, requestId: 'req-1' }, message });
}

const WHAT = 'EC2 CreateSnapshot of vol-0abc in us-east-1';

describe('classifyAwsError', () => {
  it.each([
    ['RequestLimitExceeded', 503],
    ['ThrottlingException', 400],
    ['RequestThrottledException', 400],
    ['SlowDown', 503],
    ['TooManyRequestsException', 429],
    ['Whatever', 429],
  ])('%s (HTTP %i) is throttled and retryable', (name, status) => {
    const err = classifyAwsError(ec2Error(name, status), WHAT);
    expect(err).toBeInstanceOf(ThrottledError);
    expect(err.retryable).toBe(true);
    expect(isQuotaThrottle(err)).toBe(false);
  });

  it.each(['ConcurrentSnapshotLimitExceeded', 'SnapshotCreationPerVolumeRateExceeded', 'ResourceLimitExceeded'])(
    '%s is a quota throttle: a delay, not a failure',
    (name) => {
      const err = classifyAwsError(ec2Error(name, 400), WHAT);
      expect(err).toBeInstanceOf(ThrottledError);
      expect(err.retryable).toBe(true);
      expect(isQuotaThrottle(err)).toBe(true);
    },
  );

  it.each([
    ['InternalError', 500],
    ['Unavailable', 503],
    ['InternalServerException', 500],
    ['SomethingNew', 502],
  ])('%s (HTTP %i) is transient', (name, status) => {
    expect(classifyAwsError(ec2Error(name, status), WHAT)).toBeInstanceOf(TransientError);
  });

  it('network failures are transient', () => {
    const err = Object.assign(new Error('socket hang up'), { code: 'ECONNRESET' });
    expect(classifyAwsError(err, WHAT)).toBeInstanceOf(TransientError);
  });

  it.each(['InvalidVolume.NotFound', 'InvalidSnapshot.NotFound', 'InvalidInstanceID.NotFound', 'ResourceNotFoundException'])('%s is not-found', (name) => {
    const err = classifyAwsError(ec2Error(name, 400), WHAT);
    expect(err).toBeInstanceOf(NotFoundError);
    expect(err.retryable).toBe(false);
    expect(isAwsNotFound(err)).toBe(true);
  });

  it.each(['UnauthorizedOperation', 'AccessDenied', 'AccessDeniedException', 'ValidationException', 'InvalidParameterValue', 'InvalidSnapshotID.Malformed'])(
    '%s is permanent',
    (name) => {
      const err = classifyAwsError(ec2Error(name, 400), WHAT);
      expect(err).toBeInstanceOf(PermanentError);
      expect(err.retryable).toBe(false);
      expect(isAwsNotFound(err)).toBe(false);
    },
  );

  it('names the call and resource, and keeps key ids out of the message', () => {
    const err = classifyAwsError(ec2Error('UnauthorizedOperation', 403, 'You are not authorized; key AKIAIOSFODNN7EXAMPLE'), WHAT);
    expect(err.message).toContain('EC2 CreateSnapshot of vol-0abc in us-east-1');
    expect(err.message).toContain('UnauthorizedOperation');
    expect(err.message).not.toContain('AKIAIOSFODNN7EXAMPLE');
    expect(err.cause).toEqual({ name: 'UnauthorizedOperation', code: undefined, httpStatusCode: 403, requestId: 'req-1', reason: undefined });
  });

  it('keeps the EBS reason of a throttling error', () => {
    const raw = Object.assign(ec2Error('RequestThrottledException', 400), { Reason: 'ACCOUNT_THROTTLED' });
    const err = classifyAwsError(raw, 'EBS GetSnapshotBlock');
    expect(err.message).toContain('ACCOUNT_THROTTLED');
  });

  it('missing credentials are permanent and say so', () => {
    const err = classifyAwsError(Object.assign(new Error('Could not load credentials from any providers'), { name: 'CredentialsProviderError' }), WHAT);
    expect(err).toBeInstanceOf(PermanentError);
    expect(err.message).toMatch(/no AWS credentials found/);
  });

  it('passes engine errors through', () => {
    const original = new NotFoundError('gone');
    expect(classifyAwsError(original, WHAT)).toBe(original);
  });
});
