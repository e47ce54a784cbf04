/** A config field that names an environment variable (a password's, a URL's), as POSIX shells spell them. */
import { z } from 'zod';

export const envNameSchema = z.string().regex(/^[A-Za-z_][A-Za-z0-9_]*$/, { error: 'must be an environment variable name' });
