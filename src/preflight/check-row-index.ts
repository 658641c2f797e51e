/**
 * `check`'s row-index lines: whether the index's Redis may evict its entries (the operator's
 * choice: `maxmemory-policy noeviction`, or `maxmemory 0`, on the server holding MCS_ROW_INDEX_DB;
 * the policy is per server, not per logical DB), and each indexed table's completeness (an
 * incomplete table's changes fall back to family-wide patterns).
 */
import { errorMessage } from '../core/errors';
import { evictionSafe, openRowIndex } from '../row-index/open';
import { silentLogger } from '../telemetry/logger';
import type { CheckGroup, CheckLine } from './check-line';

export const rowIndexChecks: CheckGroup = {
  name: 'Row index',
  async run({ config, rules }) {
    const opened = await openRowIndex(config, rules, silentLogger());
    if (!opened) return [{ ok: true, name: 'row index', detail: 'no table needs it' }];
    const out: CheckLine[] = [];
    try {
      const { policy, maxmemory } = await opened.evictionPolicy();
      const safe = evictionSafe(policy, maxmemory);
      out.push({
        ok: safe ? true : 'warn',
        name: 'row index server never evicts',
        detail: `DB ${config.redis.rowIndexDb}: maxmemory-policy ${policy}, maxmemory ${maxmemory}${safe ? '' : '; every eviction on this server (any DB) or a restart marks every table incomplete'}`,
        fix: 'give the row index a Redis whose maxmemory-policy is noeviction (the policy is per server, not per logical DB)',
      });
      for (const t of await opened.state()) {
        out.push({
          ok: t.complete ? true : 'warn',
          name: `row index ${t.table} complete`,
          detail: t.complete
            ? 'answers from the index'
            : 'incomplete: its changes fall back to family-wide patterns',
          fix: `mis-cache-sync rebuild-index --table ${t.table}`,
        });
      }
    } catch (err) {
      out.push({ ok: false, name: 'row index readable', detail: errorMessage(err) });
    } finally {
      await opened.close();
    }
    return out;
  },
};
