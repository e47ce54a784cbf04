/**
 * Secret: a string that never prints itself. Passwords and tokens from the configuration are
 * wrapped at parse time, so a config object can be logged, JSON-encoded or inspected without
 * leaking them (restic's SecretString). Only `reveal()` gives the value, at the point of use.
 */

const REDACTED = '[redacted]';

export class Secret {
  readonly #value: string;

  constructor(value: string) {
    this.#value = value;
  }

  /** The plain value: call it only where the secret is used (a comparison, a connection). */
  reveal(): string {
    return this.#value;
  }

  toString(): string {
    return REDACTED;
  }

  toJSON(): string {
    return REDACTED;
  }

  /** util.inspect / console.log. */
  [Symbol.for('nodejs.util.inspect.custom')](): string {
    return REDACTED;
  }
}

export function isSecret(value: unknown): value is Secret {
  return value instanceof Secret;
}
