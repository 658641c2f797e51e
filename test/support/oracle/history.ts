/**
 * The run's history: every write (from the writer's log), every fault (kind, start, heal) and
 * every service (re)start, kill and stop, with their times. Written to one JSON-lines file per
 * run so a failed run can be read afterwards; the checker reads it to say which faults were
 * active when the writes that touched a diverging key were made.
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { ROOT } from '../service-process';
import type { WriteLog } from './workload';

export interface FaultEvent {
  readonly kind: string;
  /** The write sequence number the fault was scheduled at (start) and healed at. */
  readonly startSeq: number;
  readonly healSeq: number;
  /** Wall clock (ms) the fault began, took effect, and was healed (0: not yet). */
  began: number;
  started: number;
  healed: number;
  detail: string;
}

export interface ServiceEvent {
  readonly at: number;
  readonly what: 'start' | 'kill' | 'stop';
  readonly name: string;
  readonly group: string;
}

export class History {
  readonly faults: FaultEvent[] = [];
  readonly services: ServiceEvent[] = [];
  /** Set by the run: the writer's own log (the writes are recorded where they are made). */
  writes: readonly WriteLog[] = [];

  constructor(readonly meta: Record<string, unknown>) {}

  fault(kind: string, startSeq: number, healSeq: number): FaultEvent {
    const f: FaultEvent = {
      kind,
      startSeq,
      healSeq,
      began: Date.now(),
      started: 0,
      healed: 0,
      detail: '',
    };
    this.faults.push(f);
    return f;
  }

  service(what: ServiceEvent['what'], name: string, group: string): void {
    this.services.push({ at: Date.now(), what, name, group });
  }

  /** The faults active at `at` (begun and not healed, plus a grace for the recovery after). */
  activeAt(at: number, graceMs = 10_000): FaultEvent[] {
    return this.faults.filter((f) => f.began <= at && (f.healed === 0 || at <= f.healed + graceMs));
  }

  /** Writes made while a fault of the kind was active (begin to heal). */
  writesDuring(kind: string): number {
    return this.writes.filter((w) =>
      this.faults.some(
        (f) => f.kind === kind && f.began <= w.at && (f.healed === 0 || w.at <= f.healed),
      ),
    ).length;
  }

  /** `<STACK_DIR>/chaos/<name>.jsonl`: a meta line, then every event in time order. */
  save(name: string): string {
    const dir = path.join(process.env.STACK_DIR ?? path.join(ROOT, '.stack'), 'chaos');
    mkdirSync(dir, { recursive: true });
    const file = path.join(dir, `${name}.jsonl`);
    const events = [
      ...this.writes.map((w) => ({ ...w, type: 'write' })),
      ...this.faults.map((f) => ({ ...f, at: f.began, type: 'fault' })),
      ...this.services.map((s) => ({ type: 'service', ...s })),
    ].sort((a, b) => a.at - b.at);
    const lines = [
      JSON.stringify({ type: 'meta', ...this.meta }),
      ...events.map((e) => JSON.stringify(e)),
    ];
    writeFileSync(file, `${lines.join('\n')}\n`);
    return file;
  }
}
