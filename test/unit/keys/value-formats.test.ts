import os from 'node:os';
import { loadConfig } from '../../../src/config/config';
import { decodeValue, encodeValue } from '../../../src/keys/value-format';

const env = { KAFKA_BROKERS: 'k:9092', REDIS_URL: 'redis://r:6379' };
const load = (extra: Record<string, string>) =>
  loadConfig({ cwd: os.tmpdir(), env: { ...env, ...extra } });

describe('MCS_VALUE_FORMATS', () => {
  it('maps families to json or pickle; unlisted families write JSON', () => {
    expect(load({ MCS_VALUE_FORMATS: 'master=pickle, stats=json' }).redis.valueFormats).toEqual({
      master: 'pickle',
      stats: 'json',
    });
    expect(load({}).redis.valueFormats).toEqual({});
  });
  it('names the setting and the bad pair', () => {
    expect(() => load({ MCS_VALUE_FORMATS: 'master=yaml' })).toThrow(
      'MCS_VALUE_FORMATS (redis.valueFormats): "master=yaml": format must be one of json, pickle',
    );
    expect(() => load({ MCS_VALUE_FORMATS: 'menus=json' })).toThrow('family must be one of');
  });
  it('loader rows survive both formats unchanged', () => {
    const rows = [{ id: 1, name: '리안', code: 'REAN', amount: '12.30', none: null }];
    for (const f of ['json', 'pickle'] as const) {
      const raw = encodeValue(f, rows);
      expect(decodeValue(f, Buffer.isBuffer(raw) ? raw : Buffer.from(raw))).toEqual(rows);
    }
    expect(decodeValue('json', Buffer.from([0x80, 3]))).toBeUndefined();
  });
});
