/**
 * Every change an authenticated board user asks for, as an audit entry, once the answer is sent:
 * the ops API's job actions (retry, remove, promote) and Bull Board's own (retry all, clean,
 * pause, ...), with the user, what they acted on and the outcome (2xx ok, 4xx refused, 5xx
 * failed). Reads are not recorded. The entry goes to the composition root's `audit` function
 * (the fleet's audit stream); a failure to record is logged, never the reason a request fails.
 */
import type { RequestHandler } from 'express';
import type { AuditAction, AuditEntry } from '@snapfleet/shared/jobs';
import type { BoardLogger } from './board-options.js';
import type { Principal } from './auth/credentials.js';

const MUTATING = new Set(['POST', 'PUT', 'PATCH', 'DELETE']);
const JOB_ACTION = /^\/api\/queues\/([^/]+)\/jobs\/([^/]+)\/(retry|remove|promote)$/;

export function auditTrail(record: (entry: AuditEntry) => Promise<void>, log: BoardLogger, now: () => Date = () => new Date()): RequestHandler {
  return (req, res, next) => {
    if (!MUTATING.has(req.method)) {
      next();
      return;
    }
    res.on('finish', () => {
      const principal = res.locals.principal as Principal | undefined;
      if (!principal) return; // not authenticated: the auth middleware logged the attempt
      const path = req.originalUrl.split('?')[0]!;
      const job = JOB_ACTION.exec(path);
      const entry: AuditEntry = {
        at: now().toISOString(),
        actor: `${principal.name} (board, ${principal.via})`,
        action: job ? jobAction(job[3]!) : 'board-action',
        target: job ? `${decodeURIComponent(job[1]!)}/${decodeURIComponent(job[2]!)}` : path,
        outcome: res.statusCode < 400 ? 'ok' : res.statusCode < 500 ? 'refused' : 'failed',
        details: { method: req.method, status: res.statusCode },
      };
      record(entry).catch((err: Error) => log.warn({ err: err.message, action: entry.action, target: entry.target }, 'board: could not record an audit entry'));
    });
    next();
  };
}

function jobAction(action: string): AuditAction {
  return action === 'retry' ? 'job-retry' : action === 'remove' ? 'job-remove' : 'job-promote';
}
