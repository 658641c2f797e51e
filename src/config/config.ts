/**
 * The one place settings are read: the table (settings.ts) declares each setting once; the
 * sources (load.ts), the mapping to Config (build.ts), the cross-setting checks (checks.ts) and
 * the redaction (redact.ts) derive from it. Everything is validated at start; the result is
 * frozen. Importers outside src/config read it from here.
 */
export type { Config, LogLevel, PoisonPolicy, SaslMechanism } from './types';
export { buildConfig, type RawValues } from './build';
export { loadConfig, readStackEnv, type LoadOptions } from './load';
export { redactConfig, redactUrl } from './redact';
export { windows } from './parse';
