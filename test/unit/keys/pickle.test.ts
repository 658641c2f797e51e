/**
 * The pickle writer and reader against the real Python (Debian's /usr/bin/python3): what the
 * writer produces, `pickle.loads` turns into exactly the Python values the application's loaders
 * hold (Decimal, date, datetime included); what `pickle.dumps` writes (protocols 2–5), the reader
 * reads back.
 */
import { execFileSync } from 'node:child_process';
import {
  PyDate,
  PyDateTime,
  PyDecimal,
  dumps,
  loads,
  type PyValue,
} from '../../../src/keys/pickle';

const PY = '/usr/bin/python3';
const python = (code: string, input?: Buffer): Buffer =>
  execFileSync(PY, ['-c', code], input === undefined ? {} : { input });

const value: PyValue = {
  user_id: 7,
  username: '홍길동',
  dept_id: null,
  active: true,
  disabled: false,
  ratio: 0.25,
  big: 2n ** 70n,
  neg: -40000,
  wide: 70000,
  huge: -(2 ** 40),
  amount: new PyDecimal('1234.50'),
  order_date: new PyDate(2024, 3, 15),
  updated_at: new PyDateTime(2024, 3, 15, 23, 30, 5, 123456),
  rows: [{ id: 1, name: '리안', code: 'REAN' }, [], {}],
  raw: Buffer.from([0, 255]),
  long_text: 'x'.repeat(300),
};
const EXPECTED =
  "{'user_id': 7, 'username': '홍길동', 'dept_id': None, 'active': True, 'disabled': False, 'ratio': 0.25, " +
  "'big': 2**70, 'neg': -40000, 'wide': 70000, 'huge': -(2**40), 'amount': decimal.Decimal('1234.50'), " +
  "'order_date': datetime.date(2024, 3, 15), 'updated_at': datetime.datetime(2024, 3, 15, 23, 30, 5, 123456), " +
  "'rows': [{'id': 1, 'name': '리안', 'code': 'REAN'}, [], {}], 'raw': b'\\x00\\xff', 'long_text': 'x' * 300}";

describe('pickle', () => {
  it('Python reads what the writer wrote as exactly the values the loaders hold', () => {
    const out = python(
      `import sys, pickle, decimal, datetime\nv = pickle.loads(sys.stdin.buffer.read())\nexpected = ${EXPECTED}\nprint(v == expected and all(type(v[k]) is type(expected[k]) for k in expected))`,
      dumps(value),
    );
    expect(out.toString().trim()).toBe('True');
  });

  it.each([2, 3, 4, 5])('reads what pickle.dumps writes with protocol %i', (protocol) => {
    const data = python(
      `import sys, pickle, decimal, datetime\nsys.stdout.buffer.write(pickle.dumps(${EXPECTED}, protocol=${protocol}))`,
    );
    if (protocol === 2) {
      // protocol 2 pickles bytes through _codecs.encode: outside the subset (refused, named)
      expect(() => loads(data)).toThrow('pickle: class _codecs.encode is not supported');
      return;
    }
    expect(
      JSON.parse(
        JSON.stringify(loads(data), (_k, v: unknown) => (typeof v === 'bigint' ? v.toString() : v)),
      ),
    ).toEqual(
      JSON.parse(
        JSON.stringify(value, (_k, v: unknown) => (typeof v === 'bigint' ? v.toString() : v)),
      ),
    );
  });

  it('refuses what it does not know, naming it', () => {
    const data = python(
      'import sys, pickle\nsys.stdout.buffer.write(pickle.dumps({1, 2}, protocol=4))',
    );
    expect(() => loads(data)).toThrow(/opcode 0x8f is not supported/);
  });
});
