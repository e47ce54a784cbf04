/**
 * /compliance: RPO compliance per policy and per volume, beside Bull Board. Rendered on the
 * server from what the composition root's `compliance` function returns (the fleet's records,
 * judged by shared/compliance), so it needs no script and no repository password. Sortable by
 * column with `?sort=` and `&order=`, filterable by `?policy=` and `?state=`, and served as JSON
 * at /compliance/data.json. At most PAGE_ROWS volume rows per page (`?page=`): a fleet of
 * 100,000 volumes is not one HTML table.
 */
import express, { type Router } from 'express';
import { formatAge, type VolumeCompliance } from '@snapfleet/shared/compliance';
import type { ComplianceData, ComplianceSource, ExtraMetricsContext } from './board-options.js';

export const PAGE_ROWS = 500;
const SORTS = ['worst', 'policy', 'volume', 'state', 'age', 'rpo'] as const;
type Sort = (typeof SORTS)[number];

export function createCompliancePage(source: ComplianceSource, ctx: ExtraMetricsContext, title: string): Router {
  const router = express.Router();
  router.get('/data.json', async (_req, res) => {
    res.json(await source(ctx));
  });
  router.get('/', async (req, res) => {
    const data = await source(ctx);
    const q = (k: string) => (typeof req.query[k] === 'string' ? req.query[k] : undefined);
    const sort: Sort = SORTS.find((s) => s === q('sort')) ?? 'worst';
    const order = q('order') === 'desc' ? 'desc' : 'asc';
    const policy = q('policy');
    const state = q('state');
    const page = Math.max(1, Math.floor(Number(q('page') ?? 1)) || 1);
    const rows = sorted(
      data.volumes.filter((v) => (policy === undefined || v.policy === policy) && (state === undefined || v.state === state)),
      sort,
      order,
    );
    const shown = rows.slice((page - 1) * PAGE_ROWS, page * PAGE_ROWS);
    res.type('html').send(
      render({
        title,
        data,
        rows: shown,
        total: rows.length,
        sort,
        order,
        page,
        ...(policy !== undefined ? { policy } : {}),
        ...(state !== undefined ? { state } : {}),
      }),
    );
  });
  return router;
}

function sorted(volumes: VolumeCompliance[], sort: Sort, order: 'asc' | 'desc'): VolumeCompliance[] {
  if (sort === 'worst') return order === 'asc' ? volumes : [...volumes].reverse(); // the engine's order
  const key = (v: VolumeCompliance): string | number => {
    if (sort === 'policy') return v.policy;
    if (sort === 'volume') return v.volumeId;
    if (sort === 'state') return v.state;
    if (sort === 'age') return v.ageSeconds ?? Infinity;
    return v.rpoSeconds ?? Infinity;
  };
  const out = [...volumes].sort((a, b) => {
    const x = key(a);
    const y = key(b);
    return typeof x === 'number' && typeof y === 'number' ? x - y : String(x).localeCompare(String(y));
  });
  return order === 'asc' ? out : out.reverse();
}

interface View {
  title: string;
  data: ComplianceData;
  rows: VolumeCompliance[];
  total: number;
  sort: Sort;
  order: 'asc' | 'desc';
  page: number;
  policy?: string;
  state?: string;
}

function render(v: View): string {
  const link = (changes: Record<string, string | number | undefined>) => {
    const params = new URLSearchParams();
    const merged = { sort: v.sort, order: v.order, policy: v.policy, state: v.state, page: v.page, ...changes };
    for (const [k, val] of Object.entries(merged)) if (val !== undefined && !(k === 'page' && val === 1)) params.set(k, String(val));
    return `?${params.toString()}`;
  };
  const header = (label: string, sort: Sort) => {
    const next = v.sort === sort && v.order === 'asc' ? 'desc' : 'asc';
    const mark = v.sort === sort ? (v.order === 'asc' ? ' ▲' : ' ▼') : '';
    return `<th><a href="${esc(link({ sort, order: next, page: 1 }))}">${esc(label)}${mark}</a></th>`;
  };
  const policyRows = v.data.policies
    .map(
      (p) =>
        `<tr class="${p.breached + p.never > 0 ? 'bad' : 'good'}"><td><a href="${esc(link({ policy: p.policy, page: 1 }))}">${esc(p.policy)}</a></td><td>${esc(formatAge(p.rpoSeconds))}</td><td>${p.volumes}</td><td>${p.breached}</td><td>${p.never}</td><td>${p.pending}</td><td>${p.gone}</td></tr>`,
    )
    .join('');
  const volumeRows = v.rows
    .map((r) => {
      const point = r.recoveryPoint
        ? `${formatAge(r.ageSeconds ?? 0)} ago<br><small>${esc(r.recoveryPoint.time)}${r.recoveryPoint.id ? ` · ${esc(r.recoveryPoint.id.slice(0, 12))}` : ''}</small>`
        : 'none';
      const error = r.lastError ? `<small>${esc(r.lastError.queue)}, ${esc(r.lastError.at)}</small><br>${esc(r.lastError.message)}` : '';
      const d = r.lastDrill;
      const drill = d
        ? `<span class="${d.ok ? 'drill-ok' : 'drill-failed'}">${d.ok ? `passed, RTO ${d.rtoSeconds !== undefined ? esc(d.rtoSeconds.toFixed(1)) : '?'}s` : 'FAILED'}</span><br><small>${esc(d.at)}</small>${d.ok || !d.message ? '' : `<br>${esc(d.message)}`}`
        : '-';
      // Gone and orphan volumes: whether the config's orphans rule will expire their snapshots.
      const orphan =
        r.state === 'gone' || r.state === 'orphan'
          ? `<br><small class="orphan">${r.orphanRuleFrom ? `orphans rule from ${esc(r.orphanRuleFrom)}` : 'snapshots kept: no orphans rule'}</small>`
          : '';
      return `<tr class="state-${esc(r.state)}"><td>${esc(r.policy)}</td><td>${esc(r.volumeId)}</td><td><span class="badge">${esc(r.state)}</span>${orphan}</td><td>${point}</td><td>${r.rpoSeconds !== undefined ? esc(formatAge(r.rpoSeconds)) : '-'}</td><td class="error">${error}</td><td class="drill">${drill}</td></tr>`;
    })
    .join('');
  const pages = Math.max(1, Math.ceil(v.total / PAGE_ROWS));
  const filters = [v.policy !== undefined ? `policy ${v.policy}` : '', v.state !== undefined ? `state ${v.state}` : ''].filter(Boolean).join(', ');
  return `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>${esc(v.title)}</title>
<style>
body{font:14px system-ui,sans-serif;margin:24px;color:#1f2328}h1{font-size:20px}h2{font-size:16px;margin-top:28px}
table{border-collapse:collapse;width:100%}th,td{border-bottom:1px solid #d0d7de;padding:6px 8px;text-align:left;vertical-align:top}
th a{color:inherit;text-decoration:none}tr.bad td:first-child,tr.state-breached td:first-child,tr.state-never td:first-child{border-left:4px solid #cf222e}
.badge{padding:1px 8px;border-radius:10px;background:#eaeef2}.state-breached .badge,.state-never .badge{background:#ffebe9;color:#a40e26}
.state-ok .badge{background:#dafbe1;color:#116329}.drill-ok{color:#116329}.drill-failed{color:#a40e26;font-weight:600}.state-pending .badge{background:#fff8c5;color:#7d4e00}.error{color:#a40e26;max-width:480px}
nav a{margin-right:16px}
</style></head><body>
<nav><a href="../board/">Queues (Bull Board)</a><a href="./">RPO compliance</a><a href="data.json">JSON</a></nav>
<h1>${esc(v.title)}</h1>
<h2>Policies</h2>
<table><thead><tr><th>policy</th><th>RPO</th><th>volumes</th><th>breached</th><th>never</th><th>pending</th><th>gone</th></tr></thead><tbody>${policyRows}</tbody></table>
<h2>Volumes${filters ? ` (${esc(filters)}, <a href="./">all</a>)` : ''}: ${v.total}, worst first by default</h2>
<table><thead><tr>${header('policy', 'policy')}${header('volume', 'volume')}${header('state', 'state')}${header('newest recovery point', 'age')}${header('RPO', 'rpo')}<th>last error</th><th>last restore drill</th></tr></thead><tbody>${volumeRows}</tbody></table>
${pages > 1 ? `<p>page ${v.page} of ${pages}${v.page < pages ? ` · <a href="${esc(link({ page: v.page + 1 }))}">next</a>` : ''}</p>` : ''}
</body></html>`;
}

function esc(text: string): string {
  return text.replace(/[&<>"']/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' })[c]!);
}
