/**
 * The folder order of src/ (scripts/lint/layers.json) is what the lint enforces: every folder of
 * src/ has its place in it, and an import to a folder after one's own is an error.
 */
import { execFileSync } from 'node:child_process';
import { readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';

const ROOT = path.resolve(__dirname, '../../..');
const LAYERS: string[] = JSON.parse(
  readFileSync(path.join(ROOT, 'scripts/lint/layers.json'), 'utf8'),
);

describe('layers', () => {
  /** The repo's own ESLint (its flat config is ESM, which jest cannot load) on probe imports. */
  const restrictedAll = (probes: [from: string, spec: string][]): boolean[] => {
    const script = `
      const { ESLint } = require('eslint');
      const probes = JSON.parse(process.argv[1]);
      (async () => {
        const eslint = new ESLint({ cwd: process.cwd() });
        const out = [];
        for (const [from, spec] of probes) {
          const [r] = await eslint.lintText("import { x } from '" + spec + "';\\nexport const y = x;\\n", { filePath: from });
          out.push(r.messages.some((m) => m.ruleId === 'no-restricted-imports'));
        }
        process.stdout.write(JSON.stringify(out));
      })();`;
    const printed = execFileSync('node', ['-e', script, JSON.stringify(probes)], {
      cwd: ROOT,
      encoding: 'utf8',
    });
    return JSON.parse(printed) as boolean[];
  };

  it('every folder of src/ has its place in the order (types/ holds ambient declarations)', () => {
    const folders = readdirSync(path.join(ROOT, 'src'), { withFileTypes: true });
    expect(folders.filter((d) => !d.isDirectory()).map((d) => d.name)).toEqual([]);
    const names = folders.map((d) => d.name).filter((n) => n !== 'types');
    expect(names.sort()).toEqual([...LAYERS].sort());
  });

  it('an import down the order passes, one up it fails', () => {
    const pairs = LAYERS.flatMap((from, i) =>
      LAYERS.map((to, j) => ({ from, to, up: j > i })).filter((p) => p.from !== p.to),
    );
    const got = restrictedAll(pairs.map((p) => [`src/${p.from}/probe.ts`, `../${p.to}/probe`]));
    expect(pairs.map((p, k) => ({ ...p, restricted: got[k] }))).toEqual(
      pairs.map((p) => ({ ...p, restricted: p.up })),
    );
  });

  it('a module in a subfolder of a layer is held to the same order', () => {
    expect(
      restrictedAll([
        ['src/intake/platformatic/probe.ts', '../../keys/executor'],
        ['src/intake/platformatic/probe.ts', '../../app/service'],
        ['src/intake/platformatic/probe.ts', '../consumer'],
      ]),
    ).toEqual([false, true, false]);
  });

  it('a rule module imports the rule types and core only', () => {
    expect(
      restrictedAll([
        ['consumers/probe.ts', '../src/rules/types'],
        ['consumers/probe.ts', '../src/core/dates'],
        ['consumers/probe.ts', '../src/keys/executor'],
        ['consumers/shared/probe.ts', '../../src/rules/compile'],
      ]),
    ).toEqual([false, false, true, true]);
  });
});
