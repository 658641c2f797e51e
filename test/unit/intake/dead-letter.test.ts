import { bySize } from '../../../src/intake/dead-letter';
import type { OutgoingRecord } from '../../../src/intake/client';

const msg = (valueBytes: number, headers: Record<string, string> = {}): OutgoingRecord => ({
  key: Buffer.from('k'),
  value: Buffer.alloc(valueBytes),
  headers,
});

describe('dead-letter produce requests', () => {
  it('cuts a batch into requests under the limit, in order, each with at least one copy', () => {
    const messages = [msg(400), msg(400), msg(400), msg(1500), msg(10)];
    const chunks = bySize(messages, 1000);
    expect(chunks.map((c) => c.length)).toEqual([2, 1, 1, 1]);
    expect(chunks.flat()).toEqual(messages); // nothing lost, order kept
  });

  it('counts header bytes too', () => {
    const big = { 'mcs.error.message': 'x'.repeat(600) };
    expect(bySize([msg(100, big), msg(100, big)], 1000).map((c) => c.length)).toEqual([1, 1]);
    expect(bySize([msg(100), msg(100)], 1000).map((c) => c.length)).toEqual([2]);
  });
});
