/** The service's closer stack: newest first, once, past a failing close (which is reported). */
import { Closers } from '../../../src/app/closers';
import { createLogger } from '../../../src/telemetry/logger';

function capture() {
  const lines: Record<string, unknown>[] = [];
  const stream = { write: (s: string) => void lines.push(JSON.parse(s)) };
  return { lines, closers: new Closers(createLogger('info', stream)) };
}

describe('Closers', () => {
  it('closes in reverse order of registration, each after the one before it settled', async () => {
    const { closers } = capture();
    const order: string[] = [];
    closers.defer('first', () => void order.push('first'));
    closers.defer('second', async () => {
      await new Promise((resolve) => setTimeout(resolve, 20));
      order.push('second');
    });
    closers.defer('third', () => void order.push('third'));
    await expect(closers.closeAll()).resolves.toEqual([]);
    expect(order).toEqual(['third', 'second', 'first']);
  });

  it('runs once, even when closeAll is called twice (at once or later)', async () => {
    const { closers } = capture();
    const close = jest.fn(async () => undefined);
    closers.defer('once', close);
    const [a, b] = [closers.closeAll(), closers.closeAll()];
    expect(a).toBe(b);
    await Promise.all([a, b]);
    await closers.closeAll();
    expect(close).toHaveBeenCalledTimes(1);
  });

  it('a failing close does not stop the others; it is logged and returned', async () => {
    const { closers, lines } = capture();
    const order: string[] = [];
    const boom = new Error('quit refused');
    closers.defer('redis clients', () => void order.push('redis clients'));
    closers.defer('intake', () => {
      order.push('intake');
      throw boom;
    });
    closers.defer('pattern index', async () => {
      order.push('pattern index');
      throw new Error('already closed');
    });
    closers.defer('stats timer', () => void order.push('stats timer'));

    const failures = await closers.closeAll();

    expect(order).toEqual(['stats timer', 'pattern index', 'intake', 'redis clients']);
    expect(failures).toEqual([
      { name: 'pattern index', error: new Error('already closed') },
      { name: 'intake', error: boom },
    ]);
    expect(lines.filter((l) => l.msg === 'close failed')).toEqual([
      expect.objectContaining({ level: 50, close: 'pattern index', error: 'already closed' }),
      expect.objectContaining({ level: 50, close: 'intake', error: 'quit refused' }),
    ]);
  });

  it('nothing registered: closeAll resolves at once; registering after it is refused', async () => {
    const { closers } = capture();
    await expect(closers.closeAll()).resolves.toEqual([]);
    expect(() => closers.defer('late', () => undefined)).toThrow(/registered after closeAll/);
  });
});
