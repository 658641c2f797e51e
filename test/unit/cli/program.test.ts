/** The command line's own behaviour (in-process, no services): help, version, usage errors. */
import path from 'node:path';
import { runCli, version } from '../../../src/cli/program';

const FIXTURES = path.resolve(__dirname, '..', '..', 'fixtures', 'debezium');

async function cli(...args: string[]) {
  let out = '';
  let err = '';
  const status = await runCli(args, {
    out: (t) => (out += t),
    err: (t) => (err += t),
    env: { ...process.env, KAFKA_BROKERS: '127.0.0.1:1', REDIS_URL: 'redis://127.0.0.1:1' },
  });
  return { status, out, err };
}

const COMMANDS = [
  ['run'],
  ['explain'],
  ['replay'],
  ['rebuild'],
  ['verify'],
  ['monitor'],
  ['check'],
  ['dead-letters'],
  ['dead-letters', 'list'],
  ['dead-letters', 'redrive'],
  ['config'],
];

describe('mis-cache-sync command line', () => {
  it.each(COMMANDS)('%s … --help prints its usage and exits 0', async (...cmd: string[]) => {
    const r = await cli(...cmd, '--help');
    expect(r.status).toBe(0);
    expect(r.out).toContain(`Usage: mis-cache-sync ${cmd.join(' ')} `);
    expect(r.err).toBe('');
  });

  it('--help and help list every command', async () => {
    for (const args of [['--help'], ['help']]) {
      const r = await cli(...args);
      expect(r.status).toBe(0);
      for (const c of ['run', 'explain', 'replay', 'monitor', 'check', 'dead-letters', 'config'])
        expect(r.out).toMatch(new RegExp(`^  ${c}\\b`, 'm'));
    }
  });

  it('--version prints the package version', async () => {
    const r = await cli('--version');
    expect(r.status).toBe(0);
    expect(r.out.trim()).toBe(version());
    expect(version()).toMatch(/^\d+\.\d+\.\d+/);
  });

  it.each([
    [['replay', '--from', 'earliest', '--bogus'], "unknown option '--bogus'"],
    [['verify', '--sample'], "option '--sample <n>' argument missing"],
    [['explain'], "missing required argument 'source'"],
    [['replay'], "required option '--from <earliest|ISO>' not specified"],
    [['dead-letters', 'list', '--since'], "option '--since <ISO>' argument missing"],
    [['nope'], "unknown command 'nope'"],
    [['run', 'extra'], 'too many arguments'],
  ])('%j prints the error and the usage, exits 2', async (args, message) => {
    const r = await cli(...args);
    expect(r.status).toBe(2);
    expect(r.err).toContain(message);
    expect(r.err).toMatch(/Usage: mis-cache-sync/);
  });

  it('explain exits 0 on a handled event and 1 when it rejects its input', async () => {
    const ok = await cli('explain', path.join(FIXTURES, 'trade_orders-create.json'));
    expect(ok.status).toBe(0);
    expect(ok.out).toContain('trade_orders op=c: 4 operation(s)');
    const bad = await cli('explain', path.join(FIXTURES, '..', '..', '..', 'package.json'));
    // Any JSON object that is no envelope reads as a flattened row; without a table it is rejected.
    expect(bad.out).toMatch(/rejected \(UNKNOWN_TABLE\): no rule for table null/);
    expect(bad.status).toBe(1);
  });

  it('a bad setting is a configuration error (exit 2) naming it', async () => {
    let err = '';
    const status = await runCli(['verify'], {
      out: () => undefined,
      err: (t) => (err += t),
      env: {
        ...process.env,
        KAFKA_BROKERS: '127.0.0.1:1',
        REDIS_URL: 'redis://127.0.0.1:1',
        MCS_MONITOR_WINDOWS: '1s,soon',
      },
    });
    expect(status).toBe(2);
    expect(err).toContain(
      'MCS_MONITOR_WINDOWS (monitor.windows): "soon" is not a positive duration',
    );
  });
});
