/** Formats of the values the service writes (MCS_VALUE_FORMATS), per family. */
import type { Family } from './families';

export const VALUE_FORMATS = ['json', 'pickle'] as const;
export type ValueFormat = (typeof VALUE_FORMATS)[number];
export type ValueFormats = Readonly<Partial<Record<Family, ValueFormat>>>;
