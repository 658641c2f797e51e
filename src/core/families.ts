/**
 * Key families of the MIS v2 cache contract. Each has a logical DB and a TTL, both configurable;
 * rules name the family, never a DB number.
 */
export const FAMILIES = ['session', 'permissions', 'master', 'stats', 'temp'] as const;
export type Family = (typeof FAMILIES)[number];

export function isFamily(value: unknown): value is Family {
  return typeof value === 'string' && (FAMILIES as readonly string[]).includes(value);
}
