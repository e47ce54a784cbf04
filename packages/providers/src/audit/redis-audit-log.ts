/**
 * The fleet's audit log as a Redis stream under the prefix (XADD, read with XRANGE). Appending is
 * all the fleet's processes and the board do with it: nothing in snapfleet deletes or trims it,
 * so a board user cannot erase what they did. Operators who want it bounded trim it themselves
 * (XTRIM ... MINID, docs/operations.md), or keep Redis persistence and backups as for the queues.
 */
import type { Redis } from 'ioredis';
import { auditStreamKey, isAuditAction, type AuditAction, type AuditEntry, type StoredAuditEntry } from '@snapfleet/shared/jobs';

export async function appendAudit(redis: Pick<Redis, 'xadd'>, prefix: string, entry: AuditEntry): Promise<string> {
  const fields = ['at', entry.at, 'actor', entry.actor, 'action', entry.action, 'target', entry.target, 'outcome', entry.outcome];
  if (entry.details) fields.push('details', JSON.stringify(entry.details));
  return (await redis.xadd(auditStreamKey(prefix), '*', ...fields))!;
}

export interface AuditQuery {
  /** ISO 8601: entries at or after this. */
  since?: string;
  action?: AuditAction;
  /** At most this many, the newest. @defaultValue 100 */
  limit?: number;
}

export async function readAudit(redis: Pick<Redis, 'xrevrange'>, prefix: string, query: AuditQuery = {}): Promise<StoredAuditEntry[]> {
  const limit = query.limit ?? 100;
  const start = query.since ? String(Date.parse(query.since)) : '-';
  const out: StoredAuditEntry[] = [];
  let end = '+';
  // Newest first, a page at a time, until `limit` entries of the wanted action are found.
  for (;;) {
    const page = await redis.xrevrange(auditStreamKey(prefix), end, start, 'COUNT', 500);
    for (const [id, fields] of page) {
      const e = parseEntry(id, fields);
      if (e && (query.action === undefined || e.action === query.action)) out.push(e);
      if (out.length >= limit) return out.reverse();
    }
    if (page.length < 500) return out.reverse();
    end = `(${page.at(-1)![0]}`;
  }
}

function parseEntry(id: string, fields: string[]): StoredAuditEntry | undefined {
  const f = new Map<string, string>();
  for (let i = 0; i + 1 < fields.length; i += 2) f.set(fields[i]!, fields[i + 1]!);
  const action = f.get('action');
  const outcome = f.get('outcome');
  if (!action || !isAuditAction(action) || (outcome !== 'ok' && outcome !== 'refused' && outcome !== 'failed')) return undefined;
  let details: AuditEntry['details'];
  try {
    details = f.has('details') ? (JSON.parse(f.get('details')!) as AuditEntry['details']) : undefined;
  } catch {
    details = undefined;
  }
  return { id, at: f.get('at') ?? '', actor: f.get('actor') ?? '', action, target: f.get('target') ?? '', outcome, ...(details ? { details } : {}) };
}
