import type { KeyTarget } from '../../src/rules/types';

/**
 * Every statistic scoped to a brand: `stats:{stat}:brand:{id}` and `stats:{stat}:brand:{id}:…`.
 * Two exact patterns rather than `…:brand:{id}*`, which would also match brand 10, 11, 12….
 * (A folder, not a rule file: the registry loads only the files directly in consumers/.)
 */
export function brandScopedStats(column: string): KeyTarget[] {
  return [
    {
      key: `stats:*:brand:{${column}}`,
      family: 'stats',
      action: 'pattern-delete',
      why: 'brand-scoped statistics',
    },
    {
      key: `stats:*:brand:{${column}}:*`,
      family: 'stats',
      action: 'pattern-delete',
      why: 'brand-scoped statistics with sub keys',
    },
  ];
}
