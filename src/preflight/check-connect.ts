/**
 * `check`: the Debezium connector seen through the Kafka Connect REST API (CONNECT_URL):
 * RUNNING with its tasks, converter, flattening SMT and its delete handling, `topic.prefix`,
 * snapshot mode, database include list. An https:// URL is verified against MCS_CONNECT_TLS_CA_FILE
 * (else the system CAs), presenting the client certificate of MCS_CONNECT_TLS_CERT_FILE if set.
 */
import { readFileSync } from 'node:fs';
import http from 'node:http';
import https from 'node:https';
import type { Config } from '../config/config';
import { errorMessage } from '../core/errors';
import type { CheckLine } from './check-line';

type ConnectorConfig = Record<string, string>;
interface ConnectorStatus {
  connector?: { state?: string; trace?: string };
  tasks?: { id: number; state?: string; trace?: string }[];
}

type TlsFiles = Config['connect']['tls'];
type GetJson = <T>(url: string) => Promise<T>;

/** GET of a JSON document, over https with the configured CA and client certificate. */
function jsonGetter(tls: TlsFiles): GetJson {
  const options: https.RequestOptions = {
    ...(tls.caFile ? { ca: readFileSync(tls.caFile) } : {}),
    ...(tls.certFile ? { cert: readFileSync(tls.certFile) } : {}),
    ...(tls.keyFile ? { key: readFileSync(tls.keyFile) } : {}),
  };
  return <T>(url: string) =>
    new Promise<T>((resolve, reject) => {
      const u = new URL(url);
      const lib = u.protocol === 'https:' ? https : http;
      const req = lib.get(u, { ...options, timeout: 5000 }, (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (c: Buffer) => chunks.push(c));
        res.on('error', reject);
        res.on('end', () => {
          const body = Buffer.concat(chunks).toString('utf8');
          const status = res.statusCode ?? 0;
          if (status < 200 || status >= 300) {
            reject(new Error(`${url}: HTTP ${status} ${body.slice(0, 200)}`));
            return;
          }
          try {
            resolve(JSON.parse(body) as T);
          } catch (err) {
            reject(new Error(`${url}: not JSON (${errorMessage(err)})`));
          }
        });
      });
      req.on('timeout', () => req.destroy(new Error(`${url}: no answer within 5 s`)));
      req.on('error', reject);
    });
}

export async function connectChecks(config: Config): Promise<CheckLine[]> {
  const base = config.connect.url.replace(/\/+$/, '');
  const getJson = jsonGetter(config.connect.tls);
  const out: CheckLine[] = [];
  let names: string[];
  try {
    names = await getJson<string[]>(`${base}/connectors`);
  } catch (err) {
    return [
      {
        ok: false,
        name: `Kafka Connect reachable at ${base}`,
        detail: errorMessage(err),
        fix: base.startsWith('https:')
          ? 'start Kafka Connect, or fix CONNECT_URL (empty skips the Connect checks); over https: MCS_CONNECT_TLS_CA_FILE, and MCS_CONNECT_TLS_CERT_FILE / _KEY_FILE when the listener requires a client certificate'
          : 'start Kafka Connect, or fix CONNECT_URL (empty skips the Connect checks)',
      },
    ];
  }
  out.push({
    ok: true,
    name: `Kafka Connect reachable at ${base}`,
    detail: `${names.length} connector(s)`,
  });
  const configs = new Map<string, ConnectorConfig>();
  for (const n of names)
    configs.set(
      n,
      await getJson<ConnectorConfig>(`${base}/connectors/${encodeURIComponent(n)}/config`),
    );
  const wanted = config.connect.connector
    ? names.filter((n) => n === config.connect.connector)
    : names.filter((n) => configs.get(n)?.['topic.prefix'] === config.kafka.topicPrefix);
  if (wanted.length === 0) {
    out.push({
      ok: false,
      name: config.connect.connector
        ? `connector ${config.connect.connector} exists`
        : `a connector with topic.prefix=${config.kafka.topicPrefix}`,
      detail: `connectors: ${names.join(', ') || 'none'}`,
      fix: config.connect.connector
        ? `create it (POST ${base}/connectors) or set CONNECTOR_NAME to one of the above`
        : `create the Debezium connector with "topic.prefix": "${config.kafka.topicPrefix}", or set TOPIC_PREFIX to its prefix`,
    });
    return out;
  }
  for (const name of wanted)
    out.push(...(await oneConnector({ getJson, base, name, c: configs.get(name) ?? {}, config })));
  return out;
}

/** One connector to check: its name, its configuration as read, and where Connect's REST API is. */
interface OneConnectorArgs {
  readonly getJson: GetJson;
  /** Connect's REST base URL. */
  readonly base: string;
  readonly name: string;
  /** The connector's configuration (`GET /connectors/<name>/config`). */
  readonly c: ConnectorConfig;
  readonly config: Config;
}

async function oneConnector({
  getJson,
  base,
  name,
  c,
  config,
}: OneConnectorArgs): Promise<CheckLine[]> {
  const out: CheckLine[] = [];
  const status = await getJson<ConnectorStatus>(
    `${base}/connectors/${encodeURIComponent(name)}/status`,
  );
  const states = [
    status.connector?.state ?? '?',
    ...(status.tasks ?? []).map((t) => t.state ?? '?'),
  ];
  const running = states.every((s) => s === 'RUNNING') && (status.tasks ?? []).length > 0;
  const trace = [status.connector?.trace, ...(status.tasks ?? []).map((t) => t.trace)].find(
    Boolean,
  );
  out.push({
    ok: running,
    name: `connector ${name} RUNNING`,
    detail: `connector ${states[0]}, tasks ${(status.tasks ?? []).map((t) => `${t.id}:${t.state}`).join(' ') || 'none'}${trace ? `; ${trace.split('\n')[0]}` : ''}`,
    ...(running
      ? {}
      : {
          fix: `see the Connect log; then POST ${base}/connectors/${name}/restart?includeTasks=true&onlyFailed=true`,
        }),
  });
  const prefix = c['topic.prefix'];
  out.push({
    ok: prefix === config.kafka.topicPrefix,
    name: `connector ${name} topic.prefix`,
    detail: `${prefix ?? '(unset)'}; the service expects TOPIC_PREFIX=${config.kafka.topicPrefix}`,
    ...(prefix === config.kafka.topicPrefix
      ? {}
      : {
          fix: `set TOPIC_PREFIX=${prefix ?? '?'} for the service, or topic.prefix=${config.kafka.topicPrefix} on the connector`,
        }),
  });
  const include = c['database.include.list'];
  const dbIncluded =
    include === undefined ||
    include
      .split(',')
      .map((s) => s.trim())
      .includes(config.kafka.database);
  out.push({
    ok: dbIncluded,
    name: `connector ${name} captures database ${config.kafka.database}`,
    detail: `database.include.list=${include ?? '(all)'}`,
    ...(dbIncluded
      ? {}
      : { fix: `add ${config.kafka.database} to database.include.list, or set MYSQL_DATABASE` }),
  });
  out.push(converterLine(name, c, config.registry.url));
  out.push(smtLine(name, c));
  const mode = c['snapshot.mode'] ?? 'initial';
  const stops = mode === 'initial_only';
  out.push({
    ok: stops ? false : mode === 'always' ? 'warn' : true,
    name: `connector ${name} snapshot.mode`,
    detail: `${mode}${mode === 'always' ? ': a new snapshot at every restart (snapshot reads do not invalidate, so only load)' : ''}${stops ? ': stops after the snapshot, no changes are streamed' : ''}`,
    ...(stops ? { fix: 'set snapshot.mode=initial (or no_data / when_needed)' } : {}),
  });
  return out;
}

function converterLine(name: string, c: ConnectorConfig, registryUrl: string): CheckLine {
  const conv = c['value.converter'];
  const label = `connector ${name} value converter`;
  if (!conv)
    return {
      ok: true,
      name: label,
      detail: 'the worker default (not visible over REST); see "change event format" under Kafka',
    };
  if (/JsonConverter$/.test(conv))
    return {
      ok: true,
      name: label,
      detail: `JSON ${c['value.converter.schemas.enable'] === 'false' ? 'without' : 'with'} schemas`,
    };
  if (/Avro/i.test(conv))
    return registryUrl
      ? { ok: true, name: label, detail: `${conv}: Avro, registry ${registryUrl}` }
      : {
          ok: false,
          name: label,
          detail: `${conv}: Avro`,
          fix: "set SCHEMA_REGISTRY_URL to the registry's Confluent-compatible API (docs/deployment.md, Avro)",
        };
  return {
    ok: false,
    name: label,
    detail: conv,
    fix: 'use org.apache.kafka.connect.json.JsonConverter',
  };
}

function smtLine(name: string, c: ConnectorConfig): CheckLine {
  const label = `connector ${name} flattening SMT`;
  const transforms = (c.transforms ?? '')
    .split(',')
    .map((s) => s.trim())
    .filter(Boolean);
  const flat = transforms.find((t) =>
    /ExtractNewRecordState$/.test(c[`transforms.${t}.type`] ?? ''),
  );
  if (!flat)
    return {
      ok: true,
      name: label,
      detail: 'none: full envelopes (before and after images; deletes carry their row)',
    };
  const p = `transforms.${flat}.`;
  const del =
    c[`${p}delete.tombstone.handling.mode`] ??
    c[`${p}delete.handling.mode`] ??
    '(default: tombstone)';
  // `drop` loses deletes entirely (no record, no tombstone); every other mode keeps a record or a
  // tombstone, which the row index resolves by key.
  if (/^drop$/.test(del))
    return {
      ok: false,
      name: label,
      detail: `${flat} (ExtractNewRecordState), delete handling drop: deletes leave no record and no tombstone`,
      fix: `set ${p}delete.tombstone.handling.mode=rewrite (or tombstone)`,
    };
  return {
    ok: 'warn',
    name: label,
    detail: `${flat} (ExtractNewRecordState), delete handling ${del}: accepted; flattened records have no before image, the row index supplies the old key columns (docs/rules.md, Row index)`,
  };
}
