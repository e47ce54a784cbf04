// Number formatting and markdown tables for the report.

export function fmt(n, digits = 2) {
  if (n === undefined || n === null || Number.isNaN(n)) return '-';
  if (!Number.isFinite(n)) return n > 0 ? 'inf' : '-inf';
  return n.toFixed(digits);
}

export const ratio = (n) => (n === undefined || Number.isNaN(n) ? '-' : `${fmt(n, 2)}x`);
export const mb = (bytes) => fmt(bytes / 1e6, 1); // MB = 10^6 bytes throughout the report
export const mib = (kib) => fmt(kib / 1024, 0);

export function mdTable(headers, rows) {
  const line = (cells) => `| ${cells.map((c) => String(c).replaceAll('|', '\\|')).join(' | ')} |`;
  return [line(headers), line(headers.map(() => '---')), ...rows.map(line)].join('\n');
}

export function median(values) {
  const v = values.filter((x) => Number.isFinite(x)).sort((a, b) => a - b);
  if (v.length === 0) return undefined;
  const mid = v.length >> 1;
  return v.length % 2 ? v[mid] : (v[mid - 1] + v[mid]) / 2;
}
