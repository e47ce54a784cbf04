/**
 * The `board` section of the fleet config: where the operator board listens, its TLS, and who
 * may see or steer the queues (a token, named users with viewer or operator roles, or anonymous
 * viewers; never open by default). Passwords are never needed in plain text here.
 */
import { z } from 'zod';
import { envNameSchema } from './env-name-schema.js';
import { Secret } from './secret.js';
import { BOARD_TOKEN_USER, DEFAULT_BOARD_LISTEN, parseListen } from './board-listen.js';

/** Tokens are typed by nobody; 16 characters at least so one cannot be guessed online. */
const MIN_TOKEN_LENGTH = 16;
/** Passwords are typed by people; 8 is the floor NIST SP 800-63B sets for them. */
const MIN_PASSWORD_LENGTH = 8;

/** The ways to give a board user's password: exactly one, and none needs it in plain text here. */
const PASSWORD_FIELDS = ['password', 'passwordHash', 'passwordEnv', 'passwordFile'] as const;

const userSchema = z
  .strictObject({
    name: z
      .string()
      .min(1)
      .regex(/^[^:\s]+$/, { error: 'user names may not contain ":" or spaces (HTTP basic auth)' })
      .refine((n) => n !== BOARD_TOKEN_USER, { error: `"${BOARD_TOKEN_USER}" is reserved: it carries the token over basic auth` }),
    /** The password itself (prefer one of the others: this one sits in the file). */
    password: z
      .string()
      .min(MIN_PASSWORD_LENGTH, { error: `must be at least ${MIN_PASSWORD_LENGTH} characters` })
      .transform((s) => new Secret(s))
      .optional(),
    /** A scrypt hash (`snapfleet board --hash-password`: $scrypt$ln=15,r=8,p=1$salt$hash) or a bcrypt one ($2b$...). */
    passwordHash: z
      .string()
      .regex(/^(\$scrypt\$ln=\d+,r=\d+,p=\d+\$[A-Za-z0-9+/]+={0,2}\$[A-Za-z0-9+/]+={0,2}|\$2[aby]\$\d\d\$[./A-Za-z0-9]{53})$/, {
        error: 'must be a scrypt hash ($scrypt$ln=15,r=8,p=1$salt$hash, from snapfleet board --hash-password) or a bcrypt hash ($2b$12$...)',
      })
      .transform((s) => new Secret(s))
      .optional(),
    /** The environment variable holding the password, read by the process that serves the board. */
    passwordEnv: envNameSchema.optional(),
    /** A file holding the password (one trailing newline dropped; relative to the config file). */
    passwordFile: z.string().min(1).optional(),
    /** viewer: read only; operator: may also retry, remove and promote jobs. @defaultValue "viewer" */
    role: z.enum(['viewer', 'operator']).default('viewer'),
  })
  .superRefine((u, ctx) => {
    const given = PASSWORD_FIELDS.filter((f) => u[f] !== undefined);
    if (given.length !== 1) ctx.addIssue({ code: 'custom', path: [given[1] ?? 'password'], message: `give exactly one of ${PASSWORD_FIELDS.join(', ')}` });
  });

/**
 * The `board` section, for `snapfleet run` and `snapfleet board` alike (one schema, so that a file
 * one of them takes the other takes too).
 */
export const boardConfigSchema = z.strictObject({
  /** "host:port", "[::1]:3000", ":3000" (all interfaces) or "3000" (loopback). @defaultValue "127.0.0.1:3000" */
  listen: z
    .string()
    .default(DEFAULT_BOARD_LISTEN)
    .transform((text, ctx) => {
      const listen = parseListen(text);
      if (!listen) ctx.addIssue({ code: 'custom', message: `expected "host:port", got ${JSON.stringify(text)}` });
      return listen ?? { host: '', port: 0 };
    }),
  /** Serve HTTPS with this certificate (PEM files, relative to the config file). Absent: HTTP; put it behind a TLS proxy off loopback. */
  tls: z.strictObject({ certFile: z.string().min(1), keyFile: z.string().min(1) }).optional(),
  /** At least one of token, users, anonymous: the board is never open by default. */
  auth: z
    .strictObject({
      /** Bearer token (or basic auth as user `token`); grants the operator role. */
      token: z
        .string()
        .min(MIN_TOKEN_LENGTH, { error: `must be at least ${MIN_TOKEN_LENGTH} characters` })
        .transform((s) => new Secret(s))
        .optional(),
      users: z.array(userSchema).min(1).optional(),
      /** Requests without credentials get the viewer role. @defaultValue false */
      anonymous: z.boolean().default(false),
    })
    .refine((a) => a.token !== undefined || (a.users?.length ?? 0) > 0 || a.anonymous, {
      error: 'set a token, users, or anonymous: true (the board is never open by default)',
    })
    .refine((a) => new Set((a.users ?? []).map((u) => u.name)).size === (a.users ?? []).length, { error: 'user names must be unique', path: ['users'] })
    // Missing, it is checked as empty and fails with the message above.
    .prefault({}),
});
