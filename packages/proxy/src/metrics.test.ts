import { describe, expect, it } from 'vitest';
import { Counter, Histogram } from './metrics.js';

describe('Histogram', () => {
  it('renders cumulative buckets, sum and count in the Prometheus text format', () => {
    const histogram = new Histogram('latency_seconds', 'Latency.', [0.1, 1]);
    histogram.observe({ endpoint: 'openai' }, 0.05);
    histogram.observe({ endpoint: 'openai' }, 0.5);
    histogram.observe({ endpoint: 'openai' }, 5);
    expect(histogram.render()).toBe(
      [
        '# HELP latency_seconds Latency.',
        '# TYPE latency_seconds histogram',
        'latency_seconds_bucket{endpoint="openai",le="0.1"} 1',
        'latency_seconds_bucket{endpoint="openai",le="1"} 2',
        'latency_seconds_bucket{endpoint="openai",le="+Inf"} 3',
        'latency_seconds_sum{endpoint="openai"} 5.55',
        'latency_seconds_count{endpoint="openai"} 3',
        '',
      ].join('\n'),
    );
  });
});

describe('Counter', () => {
  it('keys label sets regardless of key order and escapes values', () => {
    const counter = new Counter('requests_total', 'Requests.');
    counter.inc({ b: '2', a: 'say "hi"\n' });
    counter.inc({ a: 'say "hi"\n', b: '2' }, 2);
    expect(counter.render()).toContain('requests_total{a="say \\"hi\\"\\n",b="2"} 3');
  });
});
