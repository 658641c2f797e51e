/** What an operator command gets: configuration, rules, a logger on stderr, stdout. */
import type { Config } from '../config/config';
import type { RuleSet } from '../rules/registry';
import type { Logger } from '../telemetry/logger';

export type Out = (text: string) => void;

export interface OpContext {
  readonly config: Config;
  readonly rules: RuleSet;
  readonly logger: Logger;
  readonly out: Out;
}
