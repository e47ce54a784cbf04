import { describe, expect, it } from 'vitest';
import { renderExtraMetrics } from './board-metrics.js';

describe('renderExtraMetrics', () => {
  it('passes exposition text through, newline-terminated', () => {
    expect(renderExtraMetrics('# TYPE a counter\na 1')).toBe('# TYPE a counter\na 1\n');
    expect(renderExtraMetrics('')).toBe('');
  });

  it('renders a map as untyped samples grouped by name', () => {
    expect(renderExtraMetrics({ 'jobs_total{queue="a"}': 1, 'jobs_total{queue="b"}': 2, ratio: NaN })).toBe(
      '# TYPE jobs_total untyped\njobs_total{queue="a"} 1\njobs_total{queue="b"} 2\n# TYPE ratio untyped\nratio NaN\n',
    );
  });

  it('rejects names that would corrupt the exposition', () => {
    expect(() => renderExtraMetrics({ 'bad name': 1 })).toThrow(/not a Prometheus series name/);
    expect(() => renderExtraMetrics({ 'x{a="1"}\ny': 1 })).toThrow();
    expect(() => renderExtraMetrics({ nested: { a: 1 } } as unknown as Record<string, number>)).toThrow(/nested is a object, not a number/);
  });
});
