/** T with its fields writable: for objects built field by field on a hot path, then frozen by type. */
export type Mutable<T> = { -readonly [K in keyof T]: T[K] };
