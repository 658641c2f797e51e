/**
 * Schema registry client: an edge of the service like Kafka, Redis and MySQL. Fetches Avro
 * writer schemas by id over the Confluent-compatible REST API (`GET {url}/schemas/ids/{id}`,
 * Confluent Schema Registry, Apicurio's `/apis/ccompat/v7`, Karapace, …) and, for Apicurio's own
 * framing, over Apicurio's API (`GET {apicurioUrl}/ids/globalIds|contentIds/{id}`). Schemas
 * never change under an id, so each is fetched once and cached for the life of the process.
 *
 * Failures: registry unreachable, an error status, or an id not found (yet) are
 * REGISTRY_UNAVAILABLE, retryable: the partition stalls with backoff and nothing is
 * dead-lettered. A schema the registry returns but avsc cannot use is cached as such and makes
 * the records written with it poison messages (see envelope/avro.ts).
 */
import { readFileSync } from 'node:fs';
import http from 'node:http';
import https from 'node:https';
import { SyncError, errorMessage } from '../core/errors';
import { schemaRefKey, schemaRefsOf, type SchemaRef } from '../envelope/avro-framing';
import { parseWriterSchema, type SchemaSource, type WriterSchema } from '../envelope/avro';
import type { RawRecord } from '../envelope/types';

export interface RegistrySettings {
  /** Confluent-compatible base URL, e.g. http://host:8080/apis/ccompat/v7. */
  readonly url: string;
  /** Apicurio's own API base (…/apis/registry/v2); empty: derived from `url` when it is Apicurio's ccompat path. */
  readonly apicurioUrl: string;
  readonly username: string;
  readonly password: string;
  /** PEM CA for https registries; empty: the system CAs. */
  readonly caFile: string;
  readonly timeoutMs: number;
}

type Entry = { readonly schema: WriterSchema } | { readonly error: SyncError };

export class SchemaRegistry implements SchemaSource {
  private readonly cache = new Map<string, Entry>();
  private readonly inflight = new Map<string, Promise<void>>();
  private readonly ca: Buffer | undefined;
  readonly apicurioUrl: string;

  constructor(
    private readonly settings: RegistrySettings,
    private readonly fetchText: (url: string) => Promise<HttpAnswer> = (url) => this.httpGet(url),
  ) {
    this.ca = settings.caFile ? readFileSync(settings.caFile) : undefined;
    this.apicurioUrl = trimSlash(
      settings.apicurioUrl ||
        settings.url.replace(/\/apis\/ccompat\/v\d+\/?$/, '/apis/registry/v2'),
    );
  }

  get(ref: SchemaRef): WriterSchema | undefined {
    const entry = this.cache.get(schemaRefKey(ref));
    if (entry === undefined) return undefined;
    if ('error' in entry) throw entry.error;
    return entry.schema;
  }

  /** Fetches every schema the records need and is missing; throws REGISTRY_UNAVAILABLE. */
  async prepare(records: readonly RawRecord[]): Promise<void> {
    const missing = schemaRefsOf(records).filter((r) => !this.cache.has(schemaRefKey(r)));
    await Promise.all(missing.map((ref) => this.load(ref)));
  }

  private load(ref: SchemaRef): Promise<void> {
    const key = schemaRefKey(ref);
    let p = this.inflight.get(key);
    if (!p) {
      p = this.fetchSchema(ref).finally(() => this.inflight.delete(key));
      this.inflight.set(key, p);
    }
    return p;
  }

  private async fetchSchema(ref: SchemaRef): Promise<void> {
    const url = this.urlOf(ref);
    let answer: HttpAnswer;
    try {
      answer = await this.fetchText(url);
    } catch (err) {
      throw unavailable(`schema registry ${redact(url)}: ${errorMessage(err)}`, err);
    }
    if (answer.status === 404) {
      throw unavailable(`schema ${schemaRefKey(ref)} not found (yet) at ${redact(url)}`);
    }
    if (answer.status < 200 || answer.status >= 300) {
      throw unavailable(
        `schema registry ${redact(url)} answered ${answer.status}: ${answer.body.slice(0, 200)}`,
      );
    }
    let text = answer.body;
    if (ref.kind === 'confluent') {
      try {
        const json = JSON.parse(answer.body) as { schema?: unknown };
        if (typeof json.schema !== 'string') throw new Error('no "schema" string');
        text = json.schema;
      } catch (err) {
        this.cache.set(schemaRefKey(ref), {
          error: new SyncError(
            'ENVELOPE_MALFORMED',
            `schema ${schemaRefKey(ref)}: registry answer unusable (${errorMessage(err)})`,
          ),
        });
        return;
      }
    }
    try {
      this.cache.set(schemaRefKey(ref), { schema: parseWriterSchema(text) });
    } catch (err) {
      const error =
        err instanceof SyncError ? err : new SyncError('ENVELOPE_MALFORMED', errorMessage(err));
      this.cache.set(schemaRefKey(ref), {
        error: new SyncError('ENVELOPE_MALFORMED', `schema ${schemaRefKey(ref)}: ${error.message}`),
      });
    }
  }

  urlOf(ref: SchemaRef): string {
    if (ref.kind === 'confluent') return `${trimSlash(this.settings.url)}/schemas/ids/${ref.id}`;
    return `${this.apicurioUrl}/ids/${ref.kind === 'globalId' ? 'globalIds' : 'contentIds'}/${ref.id}`;
  }

  private httpGet(url: string): Promise<HttpAnswer> {
    const { username, password, timeoutMs } = this.settings;
    const u = new URL(url);
    const lib = u.protocol === 'https:' ? https : http;
    const headers: Record<string, string> = { accept: 'application/json' };
    if (username) {
      headers.authorization = `Basic ${Buffer.from(`${username}:${password}`).toString('base64')}`;
    }
    return new Promise((resolve, reject) => {
      const req = lib.get(
        u,
        { headers, timeout: timeoutMs, ...(this.ca ? { ca: this.ca } : {}) },
        (res) => {
          const chunks: Buffer[] = [];
          res.on('data', (c: Buffer) => chunks.push(c));
          res.on('end', () =>
            resolve({ status: res.statusCode ?? 0, body: Buffer.concat(chunks).toString('utf8') }),
          );
          res.on('error', reject);
        },
      );
      req.on('timeout', () => req.destroy(new Error(`no answer within ${timeoutMs} ms`)));
      req.on('error', reject);
    });
  }
}

export interface HttpAnswer {
  readonly status: number;
  readonly body: string;
}

function unavailable(message: string, cause?: unknown): SyncError {
  return new SyncError('REGISTRY_UNAVAILABLE', message, {
    retryable: true,
    ...(cause === undefined ? {} : { cause }),
  });
}

function trimSlash(url: string): string {
  return url.replace(/\/+$/, '');
}

function redact(url: string): string {
  try {
    const u = new URL(url);
    if (u.password) u.password = '***';
    return u.toString();
  } catch {
    return url;
  }
}
