import { aggregateReadiness } from '../../../src/telemetry/http';

describe('readiness while every event read is skipped as foreign', () => {
  const redis = [{ name: 'db 0', ok: true }];

  it('is not ready and says what is skipped', () => {
    const skipping = 'the last 1000 change event(s) were all of databases not watched (erp)';
    const r = aggregateReadiness('joined', redis, undefined, skipping);
    expect(r.ready).toBe(false);
    expect(r.kafka).toEqual({ ok: false, state: 'joined', skippingAll: skipping });
  });

  it('is ready otherwise', () => {
    const r = aggregateReadiness('joined', redis);
    expect(r.ready).toBe(true);
    expect(r.kafka).toEqual({ ok: true, state: 'joined' });
  });
});
