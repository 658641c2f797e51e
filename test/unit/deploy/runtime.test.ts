/** The service image runs Node 24 LTS, a version `engines` states. */
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { REPO } from './render';

type Version = [number, number, number];
const parse = (v: string): Version => {
  const m = /^(\d+)\.(\d+)\.(\d+)$/.exec(v);
  if (!m) throw new Error(`not a version: ${v}`);
  return [Number(m[1]), Number(m[2]), Number(m[3])];
};
/** Whether `v` satisfies one caret range `^a.b.c` (same major, not lower). */
const caret = (range: string, v: Version): boolean => {
  const min = parse(range.replace(/^\^/, ''));
  if (min[0] !== v[0]) return false;
  return v[1] > min[1] || (v[1] === min[1] && v[2] >= min[2]);
};

describe('runtime', () => {
  const dockerfile = readFileSync(path.join(REPO, 'Dockerfile'), 'utf8');
  const engines: string = JSON.parse(readFileSync(path.join(REPO, 'package.json'), 'utf8')).engines
    .node;
  const ranges = engines.split('||').map((r) => r.trim());

  it('the range check itself tells in from out', () => {
    expect(caret('^24.6.0', parse('24.22.3'))).toBe(true);
    expect(caret('^24.6.0', parse('24.5.9'))).toBe(false);
    expect(caret('^24.6.0', parse('22.19.0'))).toBe(false);
  });

  it('the image’s Node is 24 and within engines', () => {
    const version = /^ARG NODE_VERSION=(\S+)$/m.exec(dockerfile)?.[1] ?? '';
    const v = parse(version);
    expect(v[0]).toBe(24);
    expect([version, ranges.some((r) => caret(r, v))]).toEqual([version, true]);
    expect(dockerfile).toMatch(/^ARG NODE_SHA512=[0-9a-f]{128}$/m);
  });

  it('engines states the two tested majors: the machine’s 20 and the image’s 24', () => {
    expect(ranges.map((r) => parse(r.replace(/^\^/, ''))[0]).sort()).toEqual([20, 24]);
    expect(ranges.some((r) => caret(r, parse(process.versions.node)))).toBe(true);
  });
});
