/**
 * The nemesis: a seeded schedule of fault pairs (start, heal) placed between the writer's writes,
 * and the faults themselves. The schedule is a pure function of the seed (the same seed replays
 * the same faults at the same write numbers); the faults act on real parts of the stack. Every
 * fault heals: the run heals whatever is still active before the checker looks.
 */
import { createServer, type Server } from 'node:net';
import type Redis from 'ioredis';
import { stackPart, sentinelScript } from '../faults';
import { mulberry32 } from '../random';
import { stackEnv } from '../stack';
import type { Fleet } from './fleet';
import type { FaultEvent, History } from './history';
import type { LatencyProxy } from './latency-proxy';

export const FAULT_KINDS = [
  'kill', // service SIGKILL, then restarted
  'join', // a second and a third instance join, then leave (rebalances)
  'fresh-group', // every instance stops, the service starts again in a group that never committed
  'fresh-join', // the same, and a second instance joins while the fresh group still catches up
  'kafka', // broker stopped, then restarted on its log dir
  'connect', // Kafka Connect stopped, then restarted from its offsets
  'redis', // Redis stopped and restarted (no persistence in the stack: its data is gone)
  'sentinel', // Sentinel failover: the master SIGKILLed, a replica promoted (Sentinel stacks only)
  'memory', // maxmemory just above use under allkeys-lru, filled until keys are evicted
  'notify', // notify-keyspace-events emptied at run time, then restored
  'latency', // every Redis chunk of the service delayed (the proxy), then not
] as const;
export type FaultKind = (typeof FAULT_KINDS)[number];

/** Kinds that are a rebalance: the writer keeps writing while they take effect. */
const OVERLAPPING: ReadonlySet<FaultKind> = new Set(['join', 'fresh-group', 'fresh-join']);

export interface PlannedFault {
  readonly kind: FaultKind;
  /** The fault starts before write `startSeq` and heals before write `healSeq`. */
  readonly startSeq: number;
  readonly healSeq: number;
}

/**
 * `count` faults in consecutive, non-overlapping slots of the writes (one fault active at a
 * time, so a divergence points at one kind), each starting in the first half of its slot and
 * healing before the slot ends; the last slot ends well before the last write, so writes are
 * made after every heal too.
 */
export function planSchedule(
  seed: number,
  writes: number,
  kinds: readonly FaultKind[],
  count: number,
): PlannedFault[] {
  if (kinds.length === 0 || count === 0) return [];
  const rnd = mulberry32(seed ^ 0x9e3779b9); // a stream of its own: writes and faults stay apart
  const span = Math.floor((writes * 0.85) / count);
  const plan: PlannedFault[] = [];
  for (let i = 0; i < count; i++) {
    const from = 1 + i * span;
    const kind = kinds[Math.floor(rnd() * kinds.length)] as FaultKind;
    const startSeq = from + Math.floor(rnd() * (span / 2));
    const healSeq = startSeq + 1 + Math.floor(rnd() * (from + span - startSeq - 1));
    plan.push({ kind, startSeq, healSeq: Math.min(healSeq, from + span - 1) });
  }
  return plan;
}

export function describeSchedule(plan: readonly PlannedFault[]): string {
  return plan.map((f) => `${f.kind}@${f.startSeq}-${f.healSeq}`).join(' ');
}

export interface NemesisContext {
  readonly fleet: Fleet;
  readonly proxy: LatencyProxy;
  /** A client on the stack's Redis itself (not through the proxy), DB of the memory filler. */
  readonly admin: () => Redis;
  /** True on a stack whose Redis is the Sentinel setup (scripts/stack/redis-sentinel.sh). */
  readonly sentinel: boolean;
  readonly history: History;
}

interface Fault {
  /** Injects the fault; resolves once it is in effect. Returns what it did, for the history. */
  start(): Promise<string>;
  heal(): Promise<void>;
}

/** The port of a stack part, from the stack's env (.stack/env, loaded by the global setup). */
function partPort(part: 'kafka' | 'connect' | 'redis'): number {
  const url =
    part === 'kafka'
      ? `tcp://${stackEnv('KAFKA_BROKERS').split(',')[0] ?? ''}`
      : part === 'redis'
        ? stackEnv('REDIS_URL')
        : (process.env.CONNECT_URL ?? '');
  const port = Number(new URL(url).port);
  if (!port) throw new Error(`no port for ${part} in the stack's env (${url})`);
  return port;
}

/**
 * A stopped part's port, held while it is down: other stacks on the machine pick free ports, and
 * one that took ours would be reached by this run's service (writes into another engineer's
 * Redis). Connections to the hold are closed at once, as to a port nobody listens on.
 */
class PortHold {
  private constructor(private readonly server: Server) {}

  static async take(port: number): Promise<PortHold> {
    const server = createServer((socket) => socket.destroy());
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(port, '127.0.0.1', resolve);
    });
    return new PortHold(server);
  }

  release(): Promise<void> {
    return new Promise((resolve) => this.server.close(() => resolve()));
  }
}

const FILL_PREFIX = 'chaos:fill:';
const LATENCY_MS = 25;
const MIN_HOLD_MS = 3000;

function fault(kind: FaultKind, ctx: NemesisContext): Fault {
  const { fleet, proxy, admin } = ctx;
  switch (kind) {
    case 'kill':
      return {
        start: async () => (await fleet.killPrimary(), 'primary SIGKILLed'),
        heal: () => fleet.startPrimary(),
      };
    case 'join':
      return {
        start: async () => (await fleet.join(2), 'two instances joined'),
        heal: () => fleet.leave(),
      };
    case 'fresh-group':
      // nothing to undo: the new group is the service's state from now on
      return { start: () => fleet.freshGroup(), heal: async () => undefined };
    case 'fresh-join':
      // a rebalance before the new group committed anything: records fetched under the first
      // generation are dropped and must be fetched again from the committed offset, which is none
      return {
        start: async () => {
          const switched = await fleet.freshGroup();
          await fleet.join(1);
          return `${switched}, a second instance joined`;
        },
        heal: () => fleet.leave(),
      };
    case 'kafka':
    case 'connect':
    case 'redis': {
      let hold: PortHold | undefined;
      return {
        start: async () => {
          await stackPart('stop', kind);
          hold = await PortHold.take(partPort(kind));
          return `${kind} stopped`;
        },
        heal: async () => {
          await hold?.release();
          await stackPart('start', kind);
        },
      };
    }
    case 'sentinel': {
      let killed = '';
      return {
        start: async () => {
          if (!ctx.sentinel)
            throw new Error('the sentinel fault needs a Sentinel stack (CHAOS_REDIS=sentinel)');
          killed = sentinelScript('master').trim();
          sentinelScript('kill-master');
          return `master ${killed} SIGKILLed`;
        },
        heal: async () => void sentinelScript('start-node', killed),
      };
    }
    case 'memory': {
      let saved: string[] = [];
      return {
        start: async () => {
          const r = admin();
          saved = (await r.config('GET', 'maxmemory*')) as string[];
          const used = Number(/used_memory:(\d+)/.exec(await r.info('memory'))?.[1] ?? 0);
          await r.config('SET', 'maxmemory-policy', 'allkeys-lru');
          await r.config('SET', 'maxmemory', String(used + 2 * 1024 * 1024));
          const evicted = async () =>
            Number(/evicted_keys:(\d+)/.exec(await r.info('stats'))?.[1] ?? 0);
          const before = await evicted();
          const value = 'x'.repeat(8192);
          let i = 0;
          // fill until Redis evicts (a few hundred keys), at most ~16 MB
          for (; i < 2000 && (await evicted()) - before < 300; i += 50) {
            const p = r.pipeline();
            for (let j = i; j < i + 50; j++) p.set(`${FILL_PREFIX}${j}`, value);
            await p.exec();
          }
          return `maxmemory ${used + 2 * 1024 * 1024} (used ${used}), ${i} fill keys, ${(await evicted()) - before} evicted`;
        },
        heal: async () => {
          const r = admin();
          for (let i = 0; i + 1 < saved.length; i += 2)
            await r.config('SET', saved[i] as string, saved[i + 1] as string);
          let cursor = '0';
          do {
            const [next, keys] = await r.scan(cursor, 'MATCH', `${FILL_PREFIX}*`, 'COUNT', 500);
            if (keys.length > 0) await r.unlink(...keys);
            cursor = next;
          } while (cursor !== '0');
        },
      };
    }
    case 'notify': {
      let saved = '';
      return {
        start: async () => {
          const r = admin();
          saved = ((await r.config('GET', 'notify-keyspace-events')) as string[])[1] ?? '';
          await r.config('SET', 'notify-keyspace-events', '');
          return `notify-keyspace-events '${saved}' → ''`;
        },
        heal: async () => void (await admin().config('SET', 'notify-keyspace-events', saved)),
      };
    }
    case 'latency':
      return {
        start: async () => ((proxy.delayMs = LATENCY_MS), `+${LATENCY_MS} ms each way`),
        heal: async () => void (proxy.delayMs = 0),
      };
  }
}

/**
 * Runs the plan against the writer's progress: `beforeWrite(seq)` is awaited by the writer before
 * each write. A fault starts at its `startSeq` (the writer waits until it is in effect, except for
 * rebalances, which are most telling while writes flow) and heals at `healSeq` (the writer goes on
 * while it heals; the next fault waits for it).
 */
export class Nemesis {
  private active: { event: FaultEvent; fault: Fault; started: Promise<void> } | undefined;
  private healing: Promise<void> = Promise.resolve();
  private next = 0;
  readonly errors: string[] = [];

  constructor(
    readonly plan: readonly PlannedFault[],
    private readonly ctx: NemesisContext,
  ) {}

  async beforeWrite(seq: number): Promise<void> {
    if (this.active && seq >= this.active.event.healSeq) this.heal();
    const planned = this.plan[this.next];
    if (!this.active && planned && seq >= planned.startSeq) {
      this.next += 1;
      await this.healing;
      const started = this.begin(planned);
      if (!OVERLAPPING.has(planned.kind)) await started;
    }
  }

  private begin(planned: PlannedFault): Promise<void> {
    const event = this.ctx.history.fault(planned.kind, planned.startSeq, planned.healSeq);
    const f = fault(planned.kind, this.ctx);
    console.log(`chaos: ${planned.kind} starts at write ${planned.startSeq}`);
    const started = f.start().then(
      (detail) => {
        event.detail = detail;
        event.started = Date.now();
      },
      (err: Error) => {
        event.detail = `start failed: ${err.message}`;
        this.errors.push(`${planned.kind}: ${event.detail}`);
      },
    );
    this.active = { event, fault: f, started };
    return started;
  }

  private heal(): void {
    const active = this.active;
    if (!active) return;
    this.active = undefined;
    this.healing = this.healing.then(async () => {
      await active.started;
      // a fault lasts a few seconds at least, however fast the writes between its ends were
      const held = Date.now() - (active.event.started || active.event.began);
      if (held < MIN_HOLD_MS) await new Promise((r) => setTimeout(r, MIN_HOLD_MS - held));
      // a heal that fails is tried again (a JVM that did not come up on a loaded machine); one
      // that never succeeds leaves the run unjudged (finish() throws), never judged on a broken stack
      for (let attempt = 1; ; attempt++) {
        try {
          await active.fault.heal();
          break;
        } catch (err) {
          const message = `${active.event.kind}: heal attempt ${attempt} failed: ${(err as Error).message.slice(0, 500)}`;
          console.warn(`chaos: ${message}`);
          if (attempt === 3) {
            this.errors.push(message);
            break;
          }
          await new Promise((r) => setTimeout(r, 5000 * attempt));
        }
      }
      active.event.healed = Date.now();
      console.log(`chaos: ${active.event.kind} healed`);
    });
  }

  /**
   * Runs the faults the writer did not reach, then heals everything (before the checker); throws
   * when a fault could not start or heal: the stack is not what the run claims, so no verdict.
   */
  async finish(): Promise<void> {
    for (;;) {
      if (this.active) this.heal();
      await this.healing;
      const planned = this.plan[this.next];
      if (!planned) break;
      this.next += 1;
      await this.begin(planned);
    }
    if (this.errors.length > 0)
      throw new Error(`the nemesis failed, the run is not judged: ${this.errors.join('; ')}`);
  }
}
