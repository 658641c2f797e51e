/**
 * Source freshness on the real stack: Debezium's heartbeats keep
 * `mis_cache_sync_source_freshness_seconds` small while the tables are quiet; with the connector
 * paused (Connect's REST API) no heartbeat comes, the gauge grows while every partition's lag
 * stays 0; resumed, it drops again. The connector is resumed in afterAll whatever happened.
 */
import type { RunningService } from '../../../src/app/service';
import { testConfig, waitFor } from '../../support/stack';
import { useStack } from '../../support/harness';

const connectUrl = process.env.CONNECT_URL ?? 'http://127.0.0.1:18083';
const connector = process.env.CONNECTOR_NAME ?? 'mis-connector';

async function connectorState(): Promise<string> {
  const res = await fetch(`${connectUrl}/connectors/${connector}/status`);
  const body = (await res.json()) as { connector: { state: string }; tasks: { state: string }[] };
  return `${body.connector.state}/${body.tasks[0]?.state ?? 'NONE'}`;
}

async function setPaused(paused: boolean): Promise<void> {
  const res = await fetch(`${connectUrl}/connectors/${connector}/${paused ? 'pause' : 'resume'}`, {
    method: 'PUT',
  });
  if (!res.ok) throw new Error(`connect ${paused ? 'pause' : 'resume'}: HTTP ${res.status}`);
  const want = paused ? 'PAUSED/PAUSED' : 'RUNNING/RUNNING';
  await waitFor(async () => (await connectorState()) === want, 60_000, `connector ${want}`, 250);
}

interface Sample {
  freshness: number | undefined;
  lags: number[];
}

async function sample(service: RunningService): Promise<Sample> {
  const text = await (await fetch(`http://127.0.0.1:${service.httpPort}/metrics`)).text();
  const fresh = /^mis_cache_sync_source_freshness_seconds\{connector="mis"\} (\S+)$/m.exec(text);
  const lags = [...text.matchAll(/^mis_cache_sync_consumer_lag\{[^}]*\} (\S+)$/gm)].map((m) =>
    Number(m[1]),
  );
  return { freshness: fresh ? Number(fresh[1]) : undefined, lags };
}

describe('source freshness from Debezium heartbeats', () => {
  const stack = useStack();
  let service: RunningService;

  beforeAll(async () => {
    service = await stack.startService(testConfig());
  });

  afterAll(async () => {
    if ((await connectorState()) !== 'RUNNING/RUNNING') await setPaused(false);
  });

  it('stays small while quiet, grows while the connector is paused (lag 0), drops on resume', async () => {
    // Quiet tables, connector running: heartbeats every 2 s keep it well under 10 s.
    await waitFor(
      async () => ((await sample(service)).freshness ?? Infinity) < 10,
      60_000,
      'freshness under 10 s with the connector running',
      500,
    );

    await setPaused(true);
    await waitFor(
      async () => ((await sample(service)).freshness ?? 0) > 15,
      90_000,
      'freshness past 15 s with the connector paused',
      500,
    );
    const paused = await sample(service);
    expect(paused.freshness).toBeGreaterThan(15);
    // Nothing is behind: lag alone would call this healthy.
    expect(paused.lags.length).toBeGreaterThan(0);
    expect(paused.lags.every((l) => l === 0)).toBe(true);

    await setPaused(false);
    await waitFor(
      async () => ((await sample(service)).freshness ?? Infinity) < 10,
      90_000,
      'freshness under 10 s again after the resume',
      500,
    );
    const resumed = await sample(service);
    expect(resumed.freshness).toBeLessThan(paused.freshness ?? 0);
  });
});
