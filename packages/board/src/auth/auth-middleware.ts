/**
 * Express middleware over the authenticator: 401 with a challenge when the caller is unknown,
 * 403 when the caller's role is too low, and a same-origin check on mutating requests (HTTP basic
 * credentials are replayed by browsers on cross-site requests, so a foreign page must not be able
 * to POST a retry or a removal on an operator's behalf).
 */
import type { NextFunction, Request, RequestHandler, Response } from 'express';
import type { BoardLogger, Role } from '../board-options.js';
import type { Authenticator, Principal } from './credentials.js';

const REALM = 'snapfleet board';
const ROLE_RANK: Record<Role, number> = { viewer: 0, operator: 1 };
const SAFE_METHODS = new Set(['GET', 'HEAD', 'OPTIONS']);

export function principalOf(res: Response): Principal {
  const principal = res.locals.principal as Principal | undefined;
  if (!principal) throw new Error('principalOf: authenticate() did not run before this handler');
  return principal;
}

export function authenticate(authenticator: Authenticator, log: BoardLogger): RequestHandler {
  return (req: Request, res: Response, next: NextFunction) => {
    const result = authenticator(req.headers.authorization);
    if (result.ok) {
      res.locals.principal = result.principal;
      next();
      return;
    }
    if (result.reason !== 'missing') {
      // The claimed user name and the path only: never the header, the query or the secret.
      log.warn({ remote: req.socket.remoteAddress, user: result.user, reason: result.reason, path: req.path }, 'board: authentication failed');
    }
    res.setHeader('WWW-Authenticate', [`Basic realm="${REALM}", charset="UTF-8"`, `Bearer realm="${REALM}"`]);
    res.status(401).json({ error: 'unauthorized', message: 'credentials required: Authorization: Bearer TOKEN, or HTTP basic auth' });
  };
}

export function requireRole(role: Role): RequestHandler {
  return (_req, res, next) => {
    const principal = principalOf(res);
    if (ROLE_RANK[principal.role] >= ROLE_RANK[role]) {
      next();
      return;
    }
    res.status(403).json({ error: 'forbidden', message: `${principal.role} may not do this: the ${role} role is required` });
  };
}

/**
 * Refuses unsafe methods sent from another site. Browsers set Sec-Fetch-Site (all current ones)
 * and Origin on cross-origin POSTs; clients such as curl send neither and are not affected.
 */
export function sameOriginOnly(): RequestHandler {
  return (req, res, next) => {
    if (SAFE_METHODS.has(req.method)) {
      next();
      return;
    }
    const site = req.headers['sec-fetch-site'];
    const origin = req.headers.origin;
    const crossSite = site !== undefined ? site !== 'same-origin' && site !== 'none' : origin !== undefined && !sameHost(origin, req.headers.host);
    if (crossSite) {
      res.status(403).json({ error: 'forbidden', message: 'cross-site request refused' });
      return;
    }
    next();
  };
}

function sameHost(origin: string, host: string | undefined): boolean {
  try {
    return host !== undefined && new URL(origin).host === host;
  } catch {
    return false;
  }
}
