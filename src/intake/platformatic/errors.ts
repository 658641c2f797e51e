/** The library's errors as one error the logs and the startup diagnosis read. */
import { errorMessage } from '../../core/errors';

/**
 * One error for the logs and for the startup diagnosis (src/security/diagnose.ts): the library
 * nests the broker's answers in `errors` arrays and causes, so their messages are joined (a TLS
 * or SASL failure is named there), and a Kafka error name such as TOPIC_AUTHORIZATION_FAILED
 * becomes `type`, where kafkajs reports it too.
 */
export function kafkaError(err: unknown): Error {
  const leaves: unknown[] = [];
  const walk = (e: unknown, depth: number): void => {
    if (!e || depth > 6) return;
    const nested = (e as { errors?: unknown }).errors;
    if (Array.isArray(nested) && nested.length > 0) {
      for (const n of nested) walk(n, depth + 1);
      return;
    }
    leaves.push(e);
    walk((e as { cause?: unknown }).cause, depth + 1);
  };
  walk(err, 0);
  const top = errorMessage(err);
  const type = leaves
    .map((l) => (l as { apiId?: unknown }).apiId)
    .find((t): t is string => typeof t === 'string');
  const nested = [...new Set(leaves.map(errorMessage))].filter((m) => m !== top);
  const out = new Error(nested.length > 0 ? `${top}: ${nested.join('; ')}` : top, { cause: err });
  if (type) Object.assign(out, { type });
  return out;
}
