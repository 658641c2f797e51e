/** The PrometheusRule is generated from dashboards/alerts.yml, the one source of the alerts. */
import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import YAML from 'yaml';
import { DEPLOY, REPO } from './render';

describe('PrometheusRule', () => {
  const checkedIn = readFileSync(path.join(DEPLOY, 'kubernetes/base/prometheusrule.yaml'), 'utf8');

  it('the checked-in file is what npm run deploy:rules generates', () => {
    const generated = execFileSync(
      process.execPath,
      [path.join(DEPLOY, 'scripts/prometheus-rule.mjs')],
      { encoding: 'utf8' },
    );
    expect(checkedIn).toBe(generated);
  });

  it('holds every alert of dashboards/alerts.yml, unchanged', () => {
    const alerts = YAML.parse(readFileSync(path.join(REPO, 'dashboards/alerts.yml'), 'utf8'));
    const rule = YAML.parse(checkedIn);
    expect(rule.spec.groups).toEqual(alerts.groups);
    expect(alerts.groups.flatMap((g: { rules: unknown[] }) => g.rules).length).toBeGreaterThan(3);
  });
});
