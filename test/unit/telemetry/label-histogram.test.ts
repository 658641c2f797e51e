/** The one-label histogram renders what prom-client's own Histogram renders for the same values. */
import { Histogram, Registry } from 'prom-client';
import { LabelHistogram } from '../../../src/telemetry/label-histogram';
import { LATENCY_BUCKETS } from '../../../src/telemetry/metrics';

const NAME = 'mcs_test_latency_seconds';
const HELP = 'A test histogram.';

function pair() {
  const theirs = new Registry();
  const ours = new Registry();
  const reference = new Histogram({
    name: NAME,
    help: HELP,
    labelNames: ['table'],
    buckets: LATENCY_BUCKETS,
    registers: [theirs],
  });
  const subject = new LabelHistogram({
    name: NAME,
    help: HELP,
    labelName: 'table',
    buckets: LATENCY_BUCKETS,
    registers: [ours],
  });
  return { theirs, ours, reference, subject };
}

describe('LabelHistogram', () => {
  it('renders the text and JSON of prom-client Histogram for the same observations', async () => {
    const { theirs, ours, reference, subject } = pair();
    // Bounds exactly (le is inclusive), between them, above the last, zero, two label values.
    const values: [string, number][] = [
      ['user_auth', 0],
      ['user_auth', 0.005],
      ['user_auth', 0.0051],
      ['user_auth', 0.04],
      ['brands', 1],
      ['brands', 59.9],
      ['brands', 60],
      ['brands', 61],
      ['user_auth', 3600],
      ['a "quoted" \\ table', 0.3],
    ];
    for (const [table, v] of values) {
      reference.observe({ table }, v);
      subject.observe(table, v);
    }
    expect(await ours.metrics()).toBe(await theirs.metrics());
    // prom-client's JSON also carries an empty `exemplar` per sample (exemplars are off).
    const withoutExemplars = (metrics: { values: object[] }[]) =>
      metrics.map((m) => ({
        ...m,
        values: m.values.map((v) => {
          const rest: Record<string, unknown> = { ...v };
          delete rest.exemplar;
          return rest;
        }),
      }));
    expect(await ours.getMetricsAsJSON()).toEqual(
      withoutExemplars(await theirs.getMetricsAsJSON()),
    );
  });

  it('leaves out values that are not finite, where prom-client would throw', async () => {
    const { ours, subject } = pair();
    subject.observe('users', Number.NaN);
    subject.observe('users', Number.POSITIVE_INFINITY);
    subject.observe('users', 0.2);
    const text = await ours.metrics();
    expect(text).toContain(`${NAME}_count{table="users"} 1\n`);
    expect(text).toContain(`${NAME}_sum{table="users"} 0.2\n`);
  });

  it('starts again from nothing on reset', async () => {
    const { ours, subject } = pair();
    subject.observe('users', 0.2);
    ours.resetMetrics();
    expect(await ours.metrics()).toBe(`# HELP ${NAME} ${HELP}\n# TYPE ${NAME} histogram\n`);
    subject.observe('users', 2);
    expect(await ours.metrics()).toContain(`${NAME}_bucket{le="2.5",table="users"} 1\n`);
  });
});
