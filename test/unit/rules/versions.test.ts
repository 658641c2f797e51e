/** Refresh versions: string order must be change order (Lua compares them as strings). */
import { sourceVersion } from '../../../src/rules/plan';

const sorted = (versions: string[]) => [...versions].sort();

describe('sourceVersion', () => {
  it('orders by binlog file across rotation, then position, then row', () => {
    const inOrder = [
      sourceVersion({ file: 'mysql-bin.000009', pos: 99_999 }),
      sourceVersion({ file: 'mysql-bin.000010', pos: 4 }),
      sourceVersion({ file: 'mysql-bin.000010', pos: 484, row: 0 }),
      sourceVersion({ file: 'mysql-bin.000010', pos: 484, row: 1 }),
      sourceVersion({ file: 'mysql-bin.000010', pos: 484, row: 12 }),
      sourceVersion({ file: 'mysql-bin.000010', pos: 1000 }),
      sourceVersion({ file: 'mysql-bin.999999', pos: 4 }),
      // the numeric suffix grows past its width
      sourceVersion({ file: 'mysql-bin.1000000', pos: 4 }),
      sourceVersion({ file: 'mysql-bin.1000001', pos: 4 }),
    ];
    expect(sorted(inOrder)).toEqual(inOrder);
    expect(new Set(inOrder).size).toBe(inOrder.length);
  });

  it('with GTIDs the binlog coordinates still decide (MySQL and MariaDB)', () => {
    const uuid = '3E11FA47-71CA-11E1-9E33-C80AA9429562';
    // lexicographic GTID text would put :9 after :10; the coordinates do not
    const a = sourceVersion({ gtid: `${uuid}:9`, file: 'mysql-bin.000009', pos: 900 });
    const b = sourceVersion({ gtid: `${uuid}:10`, file: 'mysql-bin.000010', pos: 4 });
    expect(a < b).toBe(true);
    const c = sourceVersion({ gtid: '0-1-99', file: 'mariadb-bin.000002', pos: 13_613 });
    const d = sourceVersion({ gtid: '0-1-100', file: 'mariadb-bin.000002', pos: 14_350 });
    expect(c < d).toBe(true);
  });

  it('without coordinates, the GTID sequence number orders (numerically), then the row', () => {
    const uuid = '3E11FA47-71CA-11E1-9E33-C80AA9429562';
    const inOrder = [
      sourceVersion({ gtid: `${uuid}:9` }),
      sourceVersion({ gtid: `${uuid}:10`, row: 0 }),
      sourceVersion({ gtid: `${uuid}:10`, row: 1 }),
      sourceVersion({ gtid: '0-1-100' }),
      sourceVersion({ gtid: '0-2-1000' }),
    ];
    expect(sorted(inOrder)).toEqual(inOrder);
  });

  it('else the commit time', () => {
    expect(sourceVersion({ tsMs: 5 }) < sourceVersion({ tsMs: 10 })).toBe(true);
    expect(sourceVersion({}, 7)).toBe(sourceVersion({ tsMs: 7 }));
  });

  it('sorts after the version keys of the former `b:<file>:<pos>` format', () => {
    const old = `b:mysql-bin.000010:${String(4).padStart(16, '0')}`;
    expect(sourceVersion({ file: 'mysql-bin.000001', pos: 4 }) > old).toBe(true);
  });
});
