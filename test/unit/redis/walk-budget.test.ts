/** The walk budget (pacing to a share) and coalesced fallback walks, on a plain fake port. */
import type { RedisPort, ScanPort } from '../../../src/redis/port';
import { CoalescedWalks, WalkBudget } from '../../../src/redis/walk-budget';

/** A keyspace of `keys` scanned `per` keys a step; each step "costs" `redisMs` on the node. */
function fakePort(keys: string[], per: number, redisMs: number) {
  let micros = 0;
  const unlinked: string[] = [];
  const scans: string[] = [];
  const node: ScanPort = {
    scan: async (cursor, pattern) => {
      scans.push(pattern);
      const at = Number(cursor);
      micros += redisMs * 1000;
      const next = at + per >= keys.length ? '0' : String(at + per);
      return [next, keys.slice(at, at + per)];
    },
    scanMicros: async () => micros,
  };
  const port = {
    scanNodes: () => [node],
    unlink: async (ks: readonly string[]) => {
      unlinked.push(...ks);
      return ks.length;
    },
  } as unknown as RedisPort;
  return { port, unlinked, scans };
}

describe('WalkBudget', () => {
  it("pauses after each step in proportion to Redis's own time of it", async () => {
    const { port } = fakePort(
      Array.from({ length: 40 }, (_, i) => `k${i}`),
      10,
      5,
    );
    const budget = new WalkBudget(0.2); // 5 ms of Redis → 20 ms pause
    const started = Date.now();
    await budget.walk(port, '*', 10, () => undefined);
    const took = Date.now() - started;
    expect(budget.steps).toBe(4);
    expect(budget.redisMs).toBe(20);
    expect(took).toBeGreaterThanOrEqual(3 * 20 - 5); // the pause after the last step is not waited
  });

  it('a failed step (a node down, a timed-out SCAN) holds the next walk for no pause', async () => {
    const budget = new WalkBudget(0.05); // 60 ms spent → 1140 ms pause after a step that worked
    const failing = budget.step(async () => {
      await new Promise((r) => setTimeout(r, 60));
      throw new Error('connect ECONNREFUSED');
    });
    await expect(failing).rejects.toThrow('ECONNREFUSED');
    const started = Date.now();
    await budget.step(async () => undefined);
    expect(Date.now() - started).toBeLessThan(200);
  });

  it('runs without pauses at a share of 100 %', async () => {
    const { port } = fakePort(['a', 'b'], 1, 50);
    const budget = new WalkBudget(1);
    const started = Date.now();
    await budget.walk(port, '*', 1, () => undefined);
    expect(Date.now() - started).toBeLessThan(50);
  });
});

describe('CoalescedWalks', () => {
  it('patterns asked while a walk runs share the next walk; each gets its keys deleted', async () => {
    const keys = ['s:a:brand:1', 's:a:brand:10', 's:b:brand:2', 's:c:brand:3', 'p:x'];
    const { port, unlinked, scans } = fakePort(keys, 2, 1);
    const walks = new CoalescedWalks(new WalkBudget(1), { scanCount: 2, unlinkBatch: 10 });
    const first = walks.deleteMatching(port, ['s:*:brand:1']);
    await new Promise((r) => setImmediate(r)); // the first walk has started
    const second = walks.deleteMatching(port, ['s:*:brand:2']);
    const third = walks.deleteMatching(port, ['s:*:brand:3']); // joins the second
    expect(await first).toBe(1);
    expect(await second).toBe(2);
    expect(await third).toBe(2);
    expect(unlinked.sort()).toEqual(['s:a:brand:1', 's:b:brand:2', 's:c:brand:3']);
    // two walks of 3 steps: the first for its one pattern, one shared by the two others
    expect(scans).toEqual([...Array(3).fill('s:*:brand:1'), ...Array(3).fill('s:*')]);
  });
});
