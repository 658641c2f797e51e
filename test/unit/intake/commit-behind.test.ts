import { CommitBehind } from '../../../src/intake/commit-behind';

/** A commit that records its name when it runs and resolves when the test says so. */
function gate() {
  let open: () => void = () => undefined;
  const opened = new Promise<void>((resolve) => (open = resolve));
  return { opened, open };
}

describe('CommitBehind', () => {
  it('sends only the newest waiting commit of a partition, one round at a time', async () => {
    const sent: string[] = [];
    const first = gate();
    const commits = new CommitBehind((err) => {
      throw err;
    });
    commits.submit('t:0', async () => {
      sent.push('t:0@1');
      await first.opened;
    });
    // while the first round is in flight: three more for t:0 (only the last counts), one for t:1
    commits.submit('t:0', async () => void sent.push('t:0@2'));
    commits.submit('t:1', async () => void sent.push('t:1@1'));
    commits.submit('t:0', async () => void sent.push('t:0@3'));
    await Promise.resolve();
    expect(sent).toEqual(['t:0@1']);
    first.open();
    await commits.flush();
    expect(sent).toEqual(['t:0@1', 't:0@3', 't:1@1']);
  });

  it('reports a failed commit and goes on with the next one', async () => {
    const errors: unknown[] = [];
    const sent: string[] = [];
    const commits = new CommitBehind((err) => errors.push(err));
    commits.submit('t:0', () => Promise.reject(new Error('coordinator gone')));
    await commits.flush();
    commits.submit('t:0', async () => void sent.push('t:0@2'));
    await commits.flush();
    expect(errors.map((e) => (e as Error).message)).toEqual(['coordinator gone']);
    expect(sent).toEqual(['t:0@2']);
  });

  it('flush waits for a commit submitted while the last round was finishing', async () => {
    const sent: string[] = [];
    const commits = new CommitBehind(() => undefined);
    commits.submit('t:0', async () => {
      sent.push('a');
      // submitted from inside a running commit: must not be stranded when the round ends
      commits.submit('t:0', async () => void sent.push('b'));
    });
    await commits.flush();
    expect(sent).toEqual(['a', 'b']);
  });
});
