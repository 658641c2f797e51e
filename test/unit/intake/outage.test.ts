import { Writable } from 'node:stream';
import { OutageReporter } from '../../../src/intake/outage';
import { createLogger } from '../../../src/telemetry/logger';

function capture() {
  const lines: Array<Record<string, unknown>> = [];
  const stream = new Writable({
    write(chunk, _enc, done) {
      lines.push(JSON.parse(chunk.toString()));
      done();
    },
  });
  return { lines, logger: createLogger('info', stream) };
}

describe('OutageReporter', () => {
  it('logs an outage once, reminds periodically, and logs the recovery', () => {
    const { lines, logger } = capture();
    let now = 0;
    const r = new OutageReporter(logger, 1000, () => now);
    for (now = 0; now < 2500; now += 100)
      r.failed('ECONNREFUSED', { topic: 't', partition: 0, offset: '5' });
    expect(r.down).toBe(true);
    r.succeeded();
    r.succeeded();
    expect(lines.map((l) => l.msg)).toEqual([
      'dependency unavailable: consumption paused, retrying',
      'dependency still unavailable',
      'dependency still unavailable',
      'dependency reachable again: consumption resumed',
    ]);
    expect(lines[0]).toMatchObject({
      topic: 't',
      partition: 0,
      offset: '5',
      error: 'ECONNREFUSED',
    });
    expect(r.down).toBe(false);
  });
});
