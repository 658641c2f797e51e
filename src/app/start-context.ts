/** What every start phase is handed: the settings, the log, the table rules, the closer stack. */
import type { Config } from '../config/config';
import type { RuleSet } from '../rules/registry';
import type { Logger } from '../telemetry/logger';
import type { Closers } from './closers';

export interface StartContext {
  readonly config: Config;
  readonly logger: Logger;
  readonly rules: RuleSet;
  /** A phase registers each thing's close here as soon as it is open. */
  readonly closers: Closers;
}
