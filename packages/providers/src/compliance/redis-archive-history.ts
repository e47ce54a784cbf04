/**
 * A compact record of each (policy, volume)'s recent archive outcomes, so the fleet need not keep
 * BullMQ's job hashes (about 1 KB each, three per volume and slot) for as long as it needs to know
 * how a slot's archive ended: the snapshot tier deletes a provider snapshot whose archive job
 * finished (archived, found, passed over by archive selection, or failed for good), and that job
 * is gone after `fleet.jobs.keepCompleted`. One hash field per pair: a JSON list of
 * [slot, outcome, slot time in epoch seconds], the newest MAX_ENTRIES within `keepHistory`, about
 * 40 bytes an entry. Recording is one atomic step (a Lua script) that also drops what aged out.
 */
import type { Redis } from 'ioredis';
import { archiveHistoryKey } from '@snapfleet/shared/jobs';
import { redisScript } from '../redis-script.js';

/** How an archive job ended: archived, found archived already (reused), passed over by selection, failed for good. */
export type ArchiveOutcome = 'archived' | 'reused' | 'skipped' | 'failed';

/** Entries kept per pair at most, whatever `keepHistory` says: an hourly policy over a week would be 168. */
export const MAX_ENTRIES = 48;

const CODE: Record<ArchiveOutcome, string> = { archived: 'a', reused: 'r', skipped: 's', failed: 'f' };
const OUTCOME: Record<string, ArchiveOutcome> = { a: 'archived', r: 'reused', s: 'skipped', f: 'failed' };

/** Replaces the slot's entry, drops entries older than ARGV[4] (epoch s), keeps the newest ARGV[5]. */
const RECORD = redisScript(`
local list = {}
local cur = redis.call('HGET', KEYS[1], ARGV[1])
if cur then
  local ok, old = pcall(cjson.decode, cur)
  if ok and type(old) == 'table' then list = old end
end
local out = {}
for _, e in ipairs(list) do
  if type(e) == 'table' and e[1] ~= ARGV[2] and tonumber(e[3]) and tonumber(e[3]) >= tonumber(ARGV[4]) then table.insert(out, e) end
end
table.insert(out, cjson.decode(ARGV[3]))
table.sort(out, function(a, b) return tonumber(a[3]) < tonumber(b[3]) end)
local max = tonumber(ARGV[5])
while #out > max do table.remove(out, 1) end
redis.call('HSET', KEYS[1], ARGV[1], cjson.encode(out))
return #out
`);

const field = (policy: string, volumeId: string) => JSON.stringify([policy, volumeId]);

export interface ArchiveHistoryEntry {
  slot: string;
  outcome: ArchiveOutcome;
}

export interface ArchiveHistory {
  /** Records how the archive of `slot` (taken at `slotTime`) ended; entries older than `now - keepMs` go. */
  record(policy: string, volumeId: string, slot: string, slotTime: Date, outcome: ArchiveOutcome, keepMs: number, now: Date): Promise<void>;
  /** The pair's recorded outcomes, oldest slot first (none: never recorded, or aged out). */
  read(policy: string, volumeId: string): Promise<ArchiveHistoryEntry[]>;
  /** Forgets a pair (orphan expiry emptied it). */
  forget(policy: string, volumeId: string): Promise<void>;
}

export function createArchiveHistory(redis: Pick<Redis, 'hget' | 'hdel' | 'evalsha' | 'eval'>, prefix: string): ArchiveHistory {
  const key = archiveHistoryKey(prefix);
  return {
    async record(policy, volumeId, slot, slotTime, outcome, keepMs, now) {
      const entry = JSON.stringify([slot, CODE[outcome], Math.floor(slotTime.getTime() / 1000)]);
      const cutoff = Math.floor((now.getTime() - keepMs) / 1000);
      await RECORD(redis, [key], [field(policy, volumeId), slot, entry, String(cutoff), String(MAX_ENTRIES)]);
    },
    async read(policy, volumeId) {
      const raw = await redis.hget(key, field(policy, volumeId));
      if (!raw) return [];
      let list: unknown;
      try {
        list = JSON.parse(raw);
      } catch {
        return []; // a damaged record costs only what it would have saved
      }
      if (!Array.isArray(list)) return [];
      return list.flatMap((e): ArchiveHistoryEntry[] =>
        Array.isArray(e) && typeof e[0] === 'string' && OUTCOME[String(e[1])] ? [{ slot: e[0], outcome: OUTCOME[String(e[1])]! }] : [],
      );
    },
    async forget(policy, volumeId) {
      await redis.hdel(key, field(policy, volumeId));
    },
  };
}
