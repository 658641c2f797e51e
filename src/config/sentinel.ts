/**
 * Redis Sentinel addressing. Two equivalent forms: `MCS_REDIS_SENTINELS` (+
 * `MCS_REDIS_SENTINEL_MASTER`) beside a plain REDIS_URL that carries the data nodes' scheme and
 * credentials, or one URL `redis+sentinel://[user:password@]host:port[,host:port…]/<master>`
 * (`rediss+sentinel://` for TLS). WHATWG URL cannot hold several hosts, hence this parser.
 */
export interface SentinelTarget {
  /** Sentinels as host:port. */
  readonly hosts: readonly string[];
  /** The master group name the sentinels monitor. */
  readonly name: string;
}

export interface ParsedSentinelUrl extends SentinelTarget {
  readonly tls: boolean;
  readonly username: string;
  readonly password: string;
}

const SENTINEL_URL =
  /^(rediss?)\+sentinel:\/\/(?:([^:@/]*)(?::([^@/]*))?@)?([^/?#]+)\/([^/?#]+)\/?$/;

export function isSentinelUrl(text: string): boolean {
  return /^rediss?\+sentinel:\/\//.test(text);
}

/** Parses a sentinel URL; throws an Error whose message says what is wrong (never the password). */
export function parseSentinelUrl(text: string): ParsedSentinelUrl {
  const m = SENTINEL_URL.exec(text);
  if (!m) {
    throw new Error(
      'is not a sentinel URL of the form redis+sentinel://[user:password@]host:port[,host:port]/<master>',
    );
  }
  const scheme = m[1] as string;
  const user = m[2];
  const pass = m[3];
  const hostList = m[4] as string;
  const name = m[5] as string;
  const hosts = hostList.split(',').map((h) => h.trim());
  for (const h of hosts) {
    if (!/^[^\s:]+:\d{1,5}$/.test(h)) throw new Error(`sentinel "${h}" is not host:port`);
  }
  return {
    tls: scheme === 'rediss',
    username: user ? decodeURIComponent(user) : '',
    password: pass ? decodeURIComponent(pass) : '',
    hosts,
    name: decodeURIComponent(name),
  };
}

/** The sentinel URL with its password replaced, for logs and `config`. */
export function redactSentinelUrl(text: string): string {
  return text.replace(/^(rediss?\+sentinel:\/\/[^:@/]*:)[^@/]*@/, '$1***@');
}
