import { heartbeatTs } from '../../../src/intake/heartbeats';

describe('heartbeatTs', () => {
  it('reads ts_ms with and without the schema wrapper', () => {
    const wrapped = {
      schema: { type: 'struct', name: 'io.debezium.connector.common.Heartbeat' },
      payload: { ts_ms: 1796190423236 },
    };
    expect(heartbeatTs(Buffer.from(JSON.stringify(wrapped)))).toBe(1796190423236);
    expect(heartbeatTs(Buffer.from('{"ts_ms":42}'))).toBe(42);
  });

  it('gives undefined for what is not a heartbeat value', () => {
    expect(heartbeatTs(null)).toBeUndefined();
    expect(heartbeatTs(Buffer.alloc(0))).toBeUndefined();
    expect(heartbeatTs(Buffer.from([0, 0, 0, 0, 1, 2]))).toBeUndefined(); // Avro framing
    expect(heartbeatTs(Buffer.from('{"payload":{"ts_ms":"soon"}}'))).toBeUndefined();
    expect(heartbeatTs(Buffer.from('null'))).toBeUndefined();
  });
});
