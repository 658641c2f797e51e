/** The systemd unit: stop bound above the graceful stop, its own user, hardening, readiness. */
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { STOP_TIMEOUT_MS } from '../../../src/cli/run';
import { DEPLOY } from './render';

const unit = readFileSync(path.join(DEPLOY, 'systemd/mis-cache-sync.service'), 'utf8');
const values = (key: string) =>
  [...unit.matchAll(new RegExp(`^${key}=(.*)$`, 'gm'))].map((m) => m[1]);

describe('systemd unit', () => {
  it('gives a stop more time than the service’s graceful stop takes', () => {
    const [stop] = values('TimeoutStopSec');
    expect(Number(stop) * 1000).toBeGreaterThan(STOP_TIMEOUT_MS);
    expect(values('KillSignal')).toEqual(['SIGTERM']);
  });

  it('restarts on failure, but not on a configuration error (exit 2)', () => {
    expect(values('Restart')).toEqual(['on-failure']);
    expect(values('RestartPreventExitStatus')).toEqual(['2']);
  });

  it('runs as its own user (sysusers.d) with hardening', () => {
    const sysusers = readFileSync(path.join(DEPLOY, 'systemd/mis-cache-sync.sysusers'), 'utf8');
    const [user] = values('User');
    expect(user).toBe('mis-cache-sync');
    expect(sysusers).toMatch(new RegExp(`^u ${user} `, 'm'));
    for (const [key, value] of [
      ['NoNewPrivileges', 'yes'],
      ['ProtectSystem', 'strict'],
      ['ProtectHome', 'yes'],
      ['PrivateTmp', 'yes'],
      ['CapabilityBoundingSet', ''],
    ])
      expect([key, values(key ?? '')]).toEqual([key, [value]]);
    // V8's JIT needs writable executable memory: this option would crash node.
    expect(values('MemoryDenyWriteExecute')).toEqual([]);
  });

  it('is ready when /readyz says so, on the port the environment file sets', () => {
    expect(values('Type')).toEqual(['exec']);
    const [post] = values('ExecStartPost');
    expect(post).toContain('/readyz');
    expect(post).toContain('$${MCS_HTTP_PORT:-9477}');
    expect(values('ExecStart')).toEqual(['/usr/local/bin/mis-cache-sync run']);
  });
});
