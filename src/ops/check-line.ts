/** One line of `mis-cache-sync check`. */
export interface CheckLine {
  /** true ✓, false ✗ (exit 1), 'warn' ! (does not fail). */
  readonly ok: boolean | 'warn';
  readonly name: string;
  readonly detail?: string;
  /** What to do about a ✗ (or a !). */
  readonly fix?: string;
}
