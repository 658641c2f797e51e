/**
 * The service under chaos: real `mis-cache-sync run` processes (so they can be SIGKILLed) in one
 * consumer group, a primary and up to two extra instances, all on one Kafka client. Every start,
 * kill and stop goes into the history. The group can be switched to a fresh one (a new group
 * starts with no committed offset anywhere).
 */
import { killHard, startServiceProcess, type ServiceProcess } from '../service-process';
import { uniq } from '../stack';
import type { History } from './history';

const START_TIMEOUT_MS = 180_000; // a loaded 2-core machine: the JVMs and seven stacks share it

export class Fleet {
  private primary: ServiceProcess | undefined;
  private readonly extras: ServiceProcess[] = [];
  group: string;
  /** Service processes started (restarts included), for the report. */
  starts = 0;

  constructor(
    private readonly env: Record<string, string>,
    private readonly history: History,
  ) {
    this.group = `mis-cache-sync-chaos-${uniq()}`;
  }

  private async spawn(name: string): Promise<ServiceProcess> {
    const proc = await startServiceProcess(
      { ...this.env, MCS_GROUP_ID: this.group },
      START_TIMEOUT_MS,
    );
    this.starts += 1;
    this.history.service('start', name, this.group);
    return proc;
  }

  async startPrimary(): Promise<void> {
    if (!this.primary) this.primary = await this.spawn('primary');
  }

  /** SIGKILL: no commit, no leave; the group notices after the session timeout. */
  async killPrimary(): Promise<void> {
    const proc = this.primary;
    this.primary = undefined;
    if (proc) await killHard(proc);
    this.history.service('kill', 'primary', this.group);
  }

  /** A second and a third instance join the group (each join is a rebalance). */
  async join(count: number): Promise<void> {
    for (let i = 0; i < count; i++)
      this.extras.push(await this.spawn(`extra-${this.extras.length + 1}`));
  }

  /** The extra instances leave (SIGTERM: finish the batch, commit, leave): more rebalances. */
  async leave(): Promise<void> {
    for (const proc of this.extras.splice(0)) await this.stop(proc, 'extra');
  }

  /** Every instance stops, and the primary starts again in a group that never committed. */
  async freshGroup(): Promise<string> {
    const old = this.group;
    await this.leave();
    if (this.primary) await this.stop(this.primary, 'primary');
    this.primary = undefined;
    this.group = `mis-cache-sync-chaos-${uniq()}`;
    await this.startPrimary();
    return `${old} → ${this.group}`;
  }

  private async stop(proc: ServiceProcess, name: string): Promise<void> {
    if (proc.child.exitCode === null && proc.child.signalCode === null) {
      proc.child.kill('SIGTERM');
      const exited = await Promise.race([
        proc.exited.then(() => true),
        sleep(60_000).then(() => false),
      ]);
      if (!exited) await killHard(proc);
    }
    this.history.service('stop', name, this.group);
  }

  /** The last lines of every running instance's output (a failure report). */
  tails(): string {
    return [this.primary, ...this.extras]
      .filter((p): p is ServiceProcess => p !== undefined)
      .map((p) => p.output().split('\n').slice(-15).join('\n'))
      .join('\n---\n');
  }

  async stopAll(): Promise<void> {
    await this.leave();
    if (this.primary) await this.stop(this.primary, 'primary');
    this.primary = undefined;
  }
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
