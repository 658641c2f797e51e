/**
 * Python pickle for cache values the MIS application reads with `pickle.loads` (spec: the
 * application historically stores values with pickle). A writer for what loaders produce and a
 * reader for the subset the application writes, both small and dependency-free.
 *
 * Writer: protocol 3 (Python 3.0+; `pickle.loads` reads every protocol), no memo. None, bool,
 * int (BININT1/2, BININT, LONG1 beyond 32 bits), float (BINFLOAT), str (BINUNICODE), bytes
 * (SHORT_BINBYTES/BINBYTES), list, tuple, dict; `decimal.Decimal`, `datetime.date` and naive
 * `datetime.datetime` the way Python itself pickles them: GLOBAL of the class, a one-element
 * argument tuple, REDUCE — Decimal from its text (`Decimal.__reduce__` gives `(Decimal,
 * ('12.30',))`), date and datetime from their packed state bytes (`date(b'\x07\xe8\x03\x0f')`).
 *
 * Reader: protocols 2–5 as `pickle.dumps` writes them for those types (PROTO, FRAME, memo
 * opcodes, SHORT_BINUNICODE, STACK_GLOBAL, …); other opcodes and classes are refused with the
 * opcode named (verify then counts the value as unreadable).
 */

export class PyDecimal {
  constructor(readonly text: string) {}
  toJSON(): string {
    return this.text;
  }
}

export class PyDate {
  constructor(
    readonly year: number,
    readonly month: number,
    readonly day: number,
  ) {}
  toJSON(): string {
    return `${String(this.year).padStart(4, '0')}-${pad(this.month)}-${pad(this.day)}`;
  }
}

export class PyDateTime {
  constructor(
    readonly year: number,
    readonly month: number,
    readonly day: number,
    readonly hour = 0,
    readonly minute = 0,
    readonly second = 0,
    readonly microsecond = 0,
  ) {}
  toJSON(): string {
    const us = this.microsecond ? `.${String(this.microsecond).padStart(6, '0')}` : '';
    return `${new PyDate(this.year, this.month, this.day).toJSON()}T${pad(this.hour)}:${pad(this.minute)}:${pad(this.second)}${us}`;
  }
}

export type PyValue =
  | null
  | boolean
  | number
  | bigint
  | string
  | Buffer
  | PyDecimal
  | PyDate
  | PyDateTime
  | readonly PyValue[]
  | { readonly [key: string]: PyValue };

function pad(n: number): string {
  return String(n).padStart(2, '0');
}

// ---- writer ----------------------------------------------------------------------------------

export function dumps(value: PyValue): Buffer {
  const out: Buffer[] = [Buffer.from([0x80, 3])];
  write(value, out);
  out.push(Buffer.from('.'));
  return Buffer.concat(out);
}

function u32(n: number): Buffer {
  const b = Buffer.alloc(4);
  b.writeUInt32LE(n);
  return b;
}

function writeInt(n: bigint, out: Buffer[]): void {
  if (n >= 0n && n < 256n) out.push(Buffer.from([0x4b, Number(n)]));
  else if (n >= 0n && n < 65536n) {
    const b = Buffer.alloc(3);
    b[0] = 0x4d;
    b.writeUInt16LE(Number(n), 1);
    out.push(b);
  } else if (n >= -(2n ** 31n) && n < 2n ** 31n) {
    const b = Buffer.alloc(5);
    b[0] = 0x4a;
    b.writeInt32LE(Number(n), 1);
    out.push(b);
  } else {
    // LONG1: little-endian two's complement, shortest length that keeps the sign
    const bytes: number[] = [];
    let v = n;
    for (;;) {
      bytes.push(Number(v & 0xffn));
      v >>= 8n;
      const top = (bytes[bytes.length - 1] as number) & 0x80;
      if ((v === 0n && !top) || (v === -1n && top)) break;
    }
    out.push(Buffer.from([0x8a, bytes.length, ...bytes]));
  }
}

function writeStr(s: string, out: Buffer[]): void {
  const data = Buffer.from(s, 'utf8');
  out.push(Buffer.from([0x58]), u32(data.length), data);
}

function writeBytes(data: Buffer, out: Buffer[]): void {
  if (data.length < 256) out.push(Buffer.from([0x43, data.length]), data);
  else out.push(Buffer.from([0x42]), u32(data.length), data);
}

/** GLOBAL module name, (arg,), REDUCE: how Python pickles Decimal, date and datetime. */
function writeReduce(module: string, name: string, arg: PyValue, out: Buffer[]): void {
  out.push(Buffer.from(`c${module}\n${name}\n`, 'latin1'));
  write(arg, out);
  out.push(Buffer.from([0x85, 0x52])); // TUPLE1, REDUCE
}

function write(v: PyValue, out: Buffer[]): void {
  if (v === null) out.push(Buffer.from('N'));
  else if (v === true) out.push(Buffer.from([0x88]));
  else if (v === false) out.push(Buffer.from([0x89]));
  else if (typeof v === 'bigint') writeInt(v, out);
  else if (typeof v === 'number') {
    if (Number.isInteger(v) && !Object.is(v, -0)) writeInt(BigInt(v), out);
    else {
      const b = Buffer.alloc(9);
      b[0] = 0x47;
      b.writeDoubleBE(v, 1);
      out.push(b);
    }
  } else if (typeof v === 'string') writeStr(v, out);
  else if (Buffer.isBuffer(v)) writeBytes(v, out);
  else if (v instanceof PyDecimal) writeReduce('decimal', 'Decimal', v.text, out);
  else if (v instanceof PyDateTime) {
    const us = v.microsecond;
    const state = Buffer.from([
      v.year >> 8,
      v.year & 255,
      v.month,
      v.day,
      v.hour,
      v.minute,
      v.second,
      (us >> 16) & 255,
      (us >> 8) & 255,
      us & 255,
    ]);
    writeReduce('datetime', 'datetime', state, out);
  } else if (v instanceof PyDate) {
    writeReduce('datetime', 'date', Buffer.from([v.year >> 8, v.year & 255, v.month, v.day]), out);
  } else if (Array.isArray(v)) {
    out.push(Buffer.from(']'));
    if (v.length > 0) {
      out.push(Buffer.from('('));
      for (const item of v as PyValue[]) write(item, out);
      out.push(Buffer.from('e')); // APPENDS
    }
  } else {
    out.push(Buffer.from('}'));
    const entries = Object.entries(v as Record<string, PyValue>);
    if (entries.length > 0) {
      out.push(Buffer.from('('));
      for (const [k, item] of entries) {
        writeStr(k, out);
        write(item, out);
      }
      out.push(Buffer.from('u')); // SETITEMS
    }
  }
}

// ---- reader ----------------------------------------------------------------------------------

const MARK = Symbol('mark');
type Item = unknown;

/** Reads a pickle of the subset above; throws naming the first unsupported opcode or class. */
export function loads(data: Buffer): unknown {
  const stack: Item[] = [];
  const memo = new Map<number, Item>();
  let i = 0;
  const take = (n: number): Buffer => {
    if (i + n > data.length) throw new Error('pickle: truncated');
    const b = data.subarray(i, i + n);
    i += n;
    return b;
  };
  const popMark = (): Item[] => {
    const at = stack.lastIndexOf(MARK);
    if (at < 0) throw new Error('pickle: no MARK');
    const items = stack.splice(at);
    return items.slice(1);
  };
  const line = (): string => {
    const end = data.indexOf(0x0a, i);
    if (end < 0) throw new Error('pickle: truncated');
    const s = data.subarray(i, end).toString('latin1');
    i = end + 1;
    return s;
  };
  for (;;) {
    const op = take(1)[0] as number;
    switch (op) {
      case 0x80: // PROTO
        take(1);
        break;
      case 0x95: // FRAME
        take(8);
        break;
      case 0x2e: // STOP
        return stack.pop();
      case 0x4e: // NONE
        stack.push(null);
        break;
      case 0x88:
        stack.push(true);
        break;
      case 0x89:
        stack.push(false);
        break;
      case 0x4b: // BININT1
        stack.push(take(1)[0]);
        break;
      case 0x4d: // BININT2
        stack.push(take(2).readUInt16LE());
        break;
      case 0x4a: // BININT
        stack.push(take(4).readInt32LE());
        break;
      case 0x8a: {
        // LONG1
        const bytes = take(take(1)[0] as number);
        let v = 0n;
        for (let k = bytes.length - 1; k >= 0; k--) v = (v << 8n) | BigInt(bytes[k] as number);
        if (bytes.length > 0 && ((bytes[bytes.length - 1] as number) & 0x80) !== 0)
          v -= 1n << BigInt(bytes.length * 8);
        stack.push(Number.isSafeInteger(Number(v)) ? Number(v) : v);
        break;
      }
      case 0x47: // BINFLOAT
        stack.push(take(8).readDoubleBE());
        break;
      case 0x8c: // SHORT_BINUNICODE
        stack.push(take(take(1)[0] as number).toString('utf8'));
        break;
      case 0x58: // BINUNICODE
        stack.push(take(take(4).readUInt32LE()).toString('utf8'));
        break;
      case 0x43: // SHORT_BINBYTES
        stack.push(Buffer.from(take(take(1)[0] as number)));
        break;
      case 0x42: // BINBYTES
        stack.push(Buffer.from(take(take(4).readUInt32LE())));
        break;
      case 0x5d: // EMPTY_LIST
        stack.push([]);
        break;
      case 0x7d: // EMPTY_DICT
        stack.push({});
        break;
      case 0x29: // EMPTY_TUPLE
        stack.push([]);
        break;
      case 0x28: // MARK
        stack.push(MARK);
        break;
      case 0x61: {
        // APPEND
        const v = stack.pop();
        (stack[stack.length - 1] as Item[]).push(v);
        break;
      }
      case 0x65: {
        // APPENDS
        const items = popMark();
        (stack[stack.length - 1] as Item[]).push(...items);
        break;
      }
      case 0x73: {
        // SETITEM
        const v = stack.pop();
        const k = stack.pop();
        (stack[stack.length - 1] as Record<string, Item>)[String(k)] = v;
        break;
      }
      case 0x75: {
        // SETITEMS
        const items = popMark();
        const d = stack[stack.length - 1] as Record<string, Item>;
        for (let k = 0; k + 1 < items.length; k += 2) d[String(items[k])] = items[k + 1];
        break;
      }
      case 0x74: // TUPLE
        stack.push(popMark());
        break;
      case 0x85: // TUPLE1
        stack.push([stack.pop()]);
        break;
      case 0x86: {
        // TUPLE2
        const b = stack.pop();
        stack.push([stack.pop(), b]);
        break;
      }
      case 0x87: {
        // TUPLE3
        const c = stack.pop();
        const b = stack.pop();
        stack.push([stack.pop(), b, c]);
        break;
      }
      case 0x94: // MEMOIZE
        memo.set(memo.size, stack[stack.length - 1]);
        break;
      case 0x71: // BINPUT
        memo.set(take(1)[0] as number, stack[stack.length - 1]);
        break;
      case 0x72: // LONG_BINPUT
        memo.set(take(4).readUInt32LE(), stack[stack.length - 1]);
        break;
      case 0x68: // BINGET
        stack.push(memo.get(take(1)[0] as number));
        break;
      case 0x6a: // LONG_BINGET
        stack.push(memo.get(take(4).readUInt32LE()));
        break;
      case 0x63: // GLOBAL
        stack.push(pyClass(line(), line()));
        break;
      case 0x93: {
        // STACK_GLOBAL
        const name = stack.pop();
        stack.push(pyClass(String(stack.pop()), String(name)));
        break;
      }
      case 0x52: {
        // REDUCE
        const args = stack.pop() as Item[];
        const make = stack.pop() as (args: Item[]) => Item;
        stack.push(make(args));
        break;
      }
      default:
        throw new Error(`pickle: opcode 0x${op.toString(16)} is not supported`);
    }
  }
}

function pyClass(module: string, name: string): (args: unknown[]) => unknown {
  const cls = `${module}.${name}`;
  const state = (args: unknown[]): Buffer => {
    const [b] = args;
    if (!Buffer.isBuffer(b)) throw new Error(`pickle: ${cls} state is not bytes`);
    return b;
  };
  switch (cls) {
    case 'decimal.Decimal':
      return ([text]) => new PyDecimal(String(text));
    case 'datetime.date':
      return (args) => {
        const b = state(args);
        return new PyDate(
          ((b[0] as number) << 8) | (b[1] as number),
          b[2] as number,
          b[3] as number,
        );
      };
    case 'datetime.datetime':
      return (args) => {
        if (args.length > 1) throw new Error('pickle: datetime with tzinfo is not supported');
        const b = state(args);
        const n = (k: number) => b[k] as number;
        return new PyDateTime(
          (n(0) << 8) | n(1),
          n(2),
          n(3),
          n(4),
          n(5),
          n(6),
          (n(7) << 16) | (n(8) << 8) | n(9),
        );
      };
    default:
      throw new Error(`pickle: class ${cls} is not supported`);
  }
}
