/** explain accepts every form the service accepts, and counts what it rejects (exit code). */
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { explainEvents, explainRecords, readExplainRecords } from '../../../src/cli/explain';
import { loadConfig } from '../../../src/config/config';
import { payload } from '../../support/envelopes';
import { CAPTURED, capturedRegistry, fakeRegistry } from '../../support/avro';
import { shippedRules } from '../../support/rules';

const config = loadConfig({
  env: { KAFKA_BROKERS: 'offline:9', REDIS_URL: 'redis://offline:6379' },
  ignoreStackEnv: true,
});
const dir = mkdtempSync(path.join(tmpdir(), 'mcs-explain-'));
const brandsAvro = () => {
  const records = CAPTURED.topics['mis.mis.brands'] ?? [];
  return Buffer.from(records[records.length - 1]?.value ?? '', 'base64');
};

describe('explain input forms', () => {
  it('a {"payload": …} wrapper without schema explains like the bare envelope', () => {
    const bare = payload({
      op: 'u',
      before: { user_id: 7 },
      after: { user_id: 7 },
      table: 'users',
    });
    expect(explainEvents([{ payload: bare }], shippedRules, config)).toBe(
      explainEvents([bare], shippedRules, config),
    );
    expect(explainEvents([{ payload: bare }], shippedRules, config)).toMatch(
      /^users op=u: 2 operation/,
    );
  });

  it('the raw bytes of an Avro value, with the registry', async () => {
    const file = path.join(dir, 'brands.avro');
    writeFileSync(file, brandsAvro());
    const records = readExplainRecords(file);
    expect(records).toHaveLength(1);
    const { registry, requests } = capturedRegistry();
    const result = await explainRecords(records, shippedRules, config, registry);
    expect(result.rejected).toBe(0);
    expect(result.text).toMatch(/^brands op=u: \d+ operation/);
    expect(result.text).toContain('master:brands');
    expect(requests).toEqual(['http://registry.test/apis/ccompat/v7/schemas/ids/4']);
  });

  it('a JSON record with valueBase64 (Avro or JSON bytes), mixed with JSON envelopes', async () => {
    const file = path.join(dir, 'mixed.json');
    writeFileSync(
      file,
      JSON.stringify([
        { topic: 'mis.mis.brands', valueBase64: brandsAvro().toString('base64') },
        payload({ op: 'd', before: { user_id: 3 }, table: 'users' }),
        { topic: 'mis.mis.users', value: null },
      ]),
    );
    const { registry } = capturedRegistry();
    const result = await explainRecords(readExplainRecords(file), shippedRules, config, registry);
    expect(result.rejected).toBe(0);
    expect(result.text).toMatch(/^event 1: brands op=u/m);
    expect(result.text).toMatch(/^event 2: users op=d: 2 operation/m);
    expect(result.text).toMatch(/^event 3: tombstone/m);
  });

  it('counts rejected inputs, with the reason: malformed, unknown table, Avro without or with a down registry', async () => {
    const bad = await explainRecords(
      readExplainRecordsOf([{ op: 'x' }, payload({ op: 'c', after: { id: 1 }, table: 'nope' })]),
      shippedRules,
      config,
    );
    expect(bad.rejected).toBe(2);
    expect(bad.text).toMatch(/rejected \(ENVELOPE_MALFORMED\): op is "x"/);
    expect(bad.text).toMatch(/rejected \(UNKNOWN_TABLE\)/);

    const avro = [{ topic: '', partition: 0, offset: '0', key: null, value: brandsAvro() }];
    const noRegistry = await explainRecords(avro, shippedRules, config);
    expect(noRegistry.rejected).toBe(1);
    expect(noRegistry.text).toMatch(/SCHEMA_REGISTRY_URL/);

    const { registry } = fakeRegistry(() => new Error('connect ECONNREFUSED 127.0.0.1:9'));
    const down = await explainRecords(avro, shippedRules, config, registry);
    expect(down.rejected).toBe(1);
    expect(down.text).toMatch(/rejected \(REGISTRY_UNAVAILABLE\): schema registry .*ECONNREFUSED/);
  });

  it('snapshots and tombstones are not rejections', async () => {
    const ok = await explainRecords(
      readExplainRecordsOf([
        payload({ op: 'r', after: { brand_id: 1 }, table: 'brands' }),
        { value: null },
      ]),
      shippedRules,
      config,
    );
    expect(ok.rejected).toBe(0);
  });
});

function readExplainRecordsOf(inputs: unknown[]) {
  const file = path.join(dir, `in-${Math.random().toString(36).slice(2)}.json`);
  writeFileSync(file, JSON.stringify(inputs));
  return readExplainRecords(file);
}
