/**
 * The oracle, split the way Jepsen splits a test: the workload (workload.ts: the seeded writer,
 * the readers' key universe, the targeted writes), the nemesis (nemesis.ts: a seeded schedule of
 * fault pairs and the faults), the history (history.ts: writes, faults, service starts, one file
 * a run) and the checker (checker.ts: settle, then every key equals the truth). run.ts composes
 * them; chaos.ts runs them against service processes on either Kafka client.
 */
export { oracleOptions, type OracleOptions } from './options';
export { runOracle, runWorkload, type OracleResult } from './run';
export { addForeignKeys, dropForeignKeys } from './workload';
