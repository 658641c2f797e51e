// The PrometheusRule of deploy/kubernetes/base/ from dashboards/alerts.yml, the one source of
// the alert rules (promtool-tested there): prints it, or with --write writes it; a unit test
// (test/unit/deploy/prometheus-rule.test.ts) fails when the checked-in file differs.
import { readFileSync, writeFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import path from 'node:path';
import * as prettier from 'prettier';
import YAML from 'yaml';

const repo = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..');
const source = path.join(repo, 'dashboards', 'alerts.yml');
const target = path.join(repo, 'deploy', 'kubernetes', 'base', 'prometheusrule.yaml');

const alerts = YAML.parse(readFileSync(source, 'utf8'));
if (!Array.isArray(alerts?.groups) || alerts.groups.length === 0)
  throw new Error(`${source}: no rule groups`);
const rule = {
  apiVersion: 'monitoring.coreos.com/v1',
  kind: 'PrometheusRule',
  metadata: { name: 'mis-cache-sync' },
  spec: { groups: alerts.groups },
};
const header =
  '# Generated from dashboards/alerts.yml by `npm run deploy:rules`: edit the alerts there.\n';
const text = await prettier.format(header + YAML.stringify(rule, { lineWidth: 0 }), {
  ...(await prettier.resolveConfig(target)),
  filepath: target,
});
if (process.argv.includes('--write')) writeFileSync(target, text);
else process.stdout.write(text);
