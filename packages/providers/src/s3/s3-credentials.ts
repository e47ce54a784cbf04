/**
 * Static S3 credentials in a redacting wrapper: printing, logging or JSON-encoding the options
 * that hold them shows `[redacted]`, never the keys (restic's SecretString, pino's redact).
 */
/** The shape of the SDK's AwsCredentialIdentity (declared here: @smithy/types is not a direct dependency). */
export interface S3CredentialIdentity {
  accessKeyId: string;
  secretAccessKey: string;
  sessionToken?: string;
}

const REDACTED = 'S3Credentials([redacted])';

export class S3Credentials {
  readonly #accessKeyId: string;
  readonly #secretAccessKey: string;
  readonly #sessionToken: string | undefined;

  constructor(accessKeyId: string, secretAccessKey: string, sessionToken?: string) {
    this.#accessKeyId = accessKeyId;
    this.#secretAccessKey = secretAccessKey;
    this.#sessionToken = sessionToken;
  }

  /** The plain object the SDK wants; hand it straight to the client, never to a logger. */
  toSdk(): S3CredentialIdentity {
    return {
      accessKeyId: this.#accessKeyId,
      secretAccessKey: this.#secretAccessKey,
      ...(this.#sessionToken !== undefined ? { sessionToken: this.#sessionToken } : {}),
    };
  }

  toString(): string {
    return REDACTED;
  }

  toJSON(): string {
    return REDACTED;
  }

  [Symbol.for('nodejs.util.inspect.custom')](): string {
    return REDACTED;
  }
}
