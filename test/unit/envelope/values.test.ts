import { decimalFromBase64, decodeValue } from '../../../src/envelope/values';

const named = (name: string, parameters?: Record<string, string>) => ({
  name,
  ...(parameters ? { parameters } : {}),
});

describe('decodeValue', () => {
  it.each([
    [0, '1970-01-01'],
    [19723, '2024-01-01'],
    [-1, '1969-12-31'],
  ])('DATE %d days → %s', (days, text) => {
    expect(decodeValue(days, named('io.debezium.time.Date'))).toBe(text);
  });

  it('DATETIME(0-3) milliseconds → wall clock', () => {
    expect(decodeValue(1704067200123, named('io.debezium.time.Timestamp'))).toBe(
      '2024-01-01T00:00:00.123000',
    );
  });

  it('DATETIME(4-6) microseconds → wall clock, also before 1970', () => {
    expect(decodeValue(1704067200123456, named('io.debezium.time.MicroTimestamp'))).toBe(
      '2024-01-01T00:00:00.123456',
    );
    expect(decodeValue(-1, named('io.debezium.time.MicroTimestamp'))).toBe(
      '1969-12-31T23:59:59.999999',
    );
  });

  it('TIMESTAMP stays the ISO-8601 UTC text Debezium sends', () => {
    expect(decodeValue('2024-01-01T14:30:00Z', named('io.debezium.time.ZonedTimestamp'))).toBe(
      '2024-01-01T14:30:00Z',
    );
  });

  it('variable-scale decimals use their own scale', () => {
    expect(
      decodeValue({ scale: 3, value: 'AQ==' }, named('io.debezium.data.VariableScaleDecimal')),
    ).toBe('0.001');
  });

  it('leaves unnamed types and nulls alone', () => {
    expect(decodeValue(5, { type: 'int32' })).toBe(5);
    expect(decodeValue(null, named('io.debezium.time.Date'))).toBeNull();
  });
});

describe('decimalFromBase64', () => {
  it.each([
    ['EtaH', 2, '12345.67'],
    ['nA==', 2, '-1.00'],
    ['BQ==', 2, '0.05'],
    ['AA==', 0, '0'],
    ['/w==', 0, '-1'],
    // 2^63 - 1 with scale 2: beyond 2^53, must stay exact
    ['f/////////8=', 2, '92233720368547758.07'],
  ])('%s scale %d → %s', (b64, scale, text) => {
    expect(decimalFromBase64(b64, scale)).toBe(text);
  });
});
