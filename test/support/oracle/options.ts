/** The oracle's knobs, from the environment (ORACLE_*), shared by the CI run, the soak and chaos. */
export interface OracleOptions {
  readonly seed: number;
  readonly writes: number;
  readonly readers: number;
  /** Pause after each write, so readers fill keys between changes. */
  readonly writePauseMs: number;
  readonly fkCascades: boolean;
  readonly menuRenames: boolean;
  /**
   * Targeted writes that close the run, cycling three kinds, each aimed at a known blind spot:
   * a reader racing a writer on the same key (the second pass), a menu renamed while its holders'
   * sessions are cached (menus → holders), a brand deleted while its products' category lists
   * are cached (FK cascades). At the end, so later random writes cannot mask what they leave.
   */
  readonly targeted: number;
  /** Which kinds of targeted writes (ORACLE_TARGETED_KINDS, comma-separated). */
  readonly targetedKinds: readonly string[];
}

export function oracleOptions(defaultWrites: number): OracleOptions {
  const env = process.env;
  return {
    seed: Number(env.ORACLE_SEED ?? Math.floor(Math.random() * 2 ** 31)),
    writes: Number(env.ORACLE_WRITES ?? defaultWrites),
    readers: Number(env.ORACLE_READERS ?? 6),
    writePauseMs: Number(env.ORACLE_WRITE_PAUSE_MS ?? 3),
    fkCascades: env.ORACLE_FK_CASCADES !== '0',
    menuRenames: env.ORACLE_MENU_RENAMES !== '0',
    targeted: Number(env.ORACLE_TARGETED ?? 60),
    targetedKinds: (env.ORACLE_TARGETED_KINDS ?? 'race,menu-holders,cascade').split(','),
  };
}
