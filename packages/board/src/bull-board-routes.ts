/**
 * Bull Board under /board, in two instances over the same queues: a read-only one for viewers
 * (no retry / remove / promote / clean buttons, and bull-board answers 405 to its mutating API)
 * and a full one for operators. Each request is dispatched by the caller's role, so both roles
 * use the same URL. The viewer instance also refuses every non-GET call in a before-hook, in case
 * a bull-board route skips its own read-only check.
 */
import type { RequestHandler } from 'express';
import type { Queue } from 'bullmq';
import { createBullBoard } from '@bull-board/api';
import { BullMQAdapter } from '@bull-board/api/bullMQAdapter';
import { ExpressAdapter } from '@bull-board/express';
import { principalOf } from './auth/auth-middleware.js';

export const BOARD_PATH = '/board';

export function createBullBoardHandler(queues: readonly Queue[], prefix: string): RequestHandler {
  const viewer = mountBoard(queues, prefix, true);
  const operator = mountBoard(queues, prefix, false);
  return (req, res, next) => {
    const router = principalOf(res).role === 'operator' ? operator : viewer;
    router(req, res, next);
  };
}

function mountBoard(queues: readonly Queue[], prefix: string, readOnlyMode: boolean): RequestHandler {
  const serverAdapter = new ExpressAdapter();
  serverAdapter.setBasePath(BOARD_PATH);
  createBullBoard({
    queues: queues.map((q) => new BullMQAdapter(q, { readOnlyMode, allowRetries: !readOnlyMode })),
    serverAdapter,
    options: {
      uiConfig: { boardTitle: readOnlyMode ? `snapfleet (${prefix}) · read-only` : `snapfleet (${prefix})` },
      handlerHooks: readOnlyMode
        ? { before: ({ method }) => (method === 'get' ? { allow: true } : { allow: false, status: 403, message: 'read-only: the operator role is required' }) }
        : {},
    },
  });
  return serverAdapter.getRouter() as RequestHandler;
}
