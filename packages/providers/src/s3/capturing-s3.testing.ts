/**
 * Test support: an S3BlobStore over the real S3 client whose requests are recorded and answered
 * by a function, so tests see the exact headers and bodies S3 would receive (for what the S3
 * test server does not implement: Object Lock, archive storage classes).
 */
import { S3Client } from '@aws-sdk/client-s3';
import { Readable } from 'node:stream';
import { S3BlobStore } from './s3-blob-store.js';
import { s3ClientConfig, type S3StoreOptions } from './s3-options.js';

export interface Sent {
  method: string;
  path: string;
  query: Record<string, unknown>;
  headers: Record<string, string>;
  body: string;
}

export type Answer = { statusCode: number; headers?: Record<string, string>; body?: string };

/** A store over a client whose requests are recorded and answered by `answer`. */
export function capturing(answer: (r: Sent) => Answer): { store: S3BlobStore; sent: Sent[] } {
  const sent: Sent[] = [];
  const requestHandler = {
    async handle(request: { method: string; path: string; query?: Record<string, unknown>; headers: Record<string, string>; body?: unknown }) {
      const body = typeof request.body === 'string' ? request.body : request.body instanceof Uint8Array ? Buffer.from(request.body).toString('latin1') : '';
      const r: Sent = { method: request.method, path: request.path, query: request.query ?? {}, headers: request.headers, body };
      sent.push(r);
      const a = answer(r);
      return { response: { statusCode: a.statusCode, headers: a.headers ?? {}, body: Readable.from([Buffer.from(a.body ?? '')]) } };
    },
  };
  // The settings of a custom endpoint (checksums only when required), as the store builds them.
  const options: S3StoreOptions = {
    bucket: 'vault',
    prefix: 'repo/',
    region: 'us-east-1',
    forcePathStyle: true,
    checksum: 'when-required',
    multipartThresholdBytes: 16 * 1024 * 1024,
    partSizeBytes: 8 * 1024 * 1024,
    uploadConcurrency: 1,
  };
  const client = new S3Client({
    ...s3ClientConfig(options),
    credentials: { accessKeyId: 'AKIDTEST', secretAccessKey: 'test-secret' },
    requestHandler,
    maxAttempts: 1,
  });
  return { store: new S3BlobStore(options, client), sent };
}
