import { SkipWatch } from '../../../src/intake/skip-watch';

describe('SkipWatch: a service that skips everything it reads', () => {
  const setup = (minEvents = 10, minMs = 60_000) => {
    let t = 0;
    const changes: (string | undefined)[] = [];
    const watch = new SkipWatch({
      minEvents,
      minMs,
      onChange: (s) => changes.push(s),
      now: () => t,
    });
    return { watch, changes, at: (ms: number) => (t = ms) };
  };

  it('says so after a run of foreign events only, and stops saying so at the first handled one', () => {
    const { watch, changes } = setup();
    watch.record(0, Array<string>(9).fill('other'));
    expect(watch.skipping).toBeUndefined();
    watch.record(0, ['other', 'erp']);
    expect(watch.skipping).toBe(
      'the last 11 change event(s) were all of databases not watched (erp, other), none handled',
    );
    watch.record(0, ['other']); // still on: told once
    watch.record(1, []);
    expect(watch.skipping).toBeUndefined();
    expect(changes).toHaveLength(2);
    expect(changes[1]).toBeUndefined();
  });

  it('a few foreign events over a long time count too', () => {
    const { watch, at } = setup(1000, 60_000);
    watch.record(0, ['other']);
    at(59_999);
    watch.record(0, ['other']);
    expect(watch.skipping).toBeUndefined();
    at(60_000);
    watch.record(0, ['other']);
    expect(watch.skipping).toMatch(/last 3 change event/);
  });

  it('foreign events mixed with handled ones are not skipping everything', () => {
    const { watch } = setup(3);
    for (let i = 0; i < 10; i++) watch.record(1, ['other', 'other']);
    watch.record(0, []); // tombstones or rejects only: no verdict
    expect(watch.skipping).toBeUndefined();
  });
});
