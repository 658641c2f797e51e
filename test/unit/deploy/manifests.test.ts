/**
 * The Kubernetes manifests, rendered by kustomize: valid against the Kubernetes and CRD schemas
 * (deploy/scripts/validate-manifests.mjs), wired to the service's own endpoints, stop bound,
 * settings and partition count.
 */
import { execFileSync, spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { STOP_TIMEOUT_MS } from '../../../src/cli/run';
import { DEPLOY, REPO, kustomize, one, parseAll } from './render';

const VALIDATE = path.join(DEPLOY, 'scripts', 'validate-manifests.mjs');

function validate(files: string[]): { status: number | null; out: string } {
  const r = spawnSync(process.execPath, [VALIDATE, ...files], { encoding: 'utf8' });
  return { status: r.status, out: `${r.stdout}${r.stderr}` };
}

describe('kubernetes manifests', () => {
  const scratch = mkdtempSync(path.join(tmpdir(), 'mcs-deploy-'));
  const overlayText = kustomize('kubernetes/overlays/example');
  const baseText = kustomize('kubernetes/base');
  const overlay = parseAll(overlayText);
  afterAll(() => rmSync(scratch, { recursive: true, force: true }));

  const deployment = one(overlay, 'Deployment', 'mis-cache-sync');
  const pod = deployment.spec.template.spec;
  const container = pod.containers.find((c: { name: string }) => c.name === 'mis-cache-sync');
  const env = new Map<string, string | undefined>(
    container.env.map((e: { name: string; value?: string }) => [e.name, e.value]),
  );

  it('the base, the Strimzi part and the overlay validate against their schemas', () => {
    const files = {
      base: baseText,
      strimzi: kustomize('kubernetes/strimzi'),
      overlay: overlayText,
      check: kustomize('kubernetes/overlays/example/check'),
    };
    const paths = Object.entries(files).map(([name, text]) => {
      const file = path.join(scratch, `${name}.yaml`);
      writeFileSync(file, text);
      return file;
    });
    const r = validate(paths);
    expect(r.out).toMatch(/manifests: \d+ valid, 0 invalid/);
    expect(r.status).toBe(0);
    const kinds = new Set(overlay.map((m) => m.kind));
    for (const kind of [
      'Deployment',
      'PodDisruptionBudget',
      'Service',
      'ServiceMonitor',
      'PrometheusRule',
      'NetworkPolicy',
      'ScaledObject',
      'Secret',
      'KafkaConnect',
      'KafkaConnector',
    ])
      expect(kinds).toContain(kind);
  });

  it('the validator rejects a wrong type, an unknown kind and a broken Strimzi resource', () => {
    const broken = overlayText
      .replace(/^ {2}replicas: 2$/m, '  replicas: two')
      .replace(/tasksMax: 1/, 'tasksMax: one')
      .concat('---\napiVersion: example.com/v1\nkind: Gadget\nmetadata:\n  name: x\n');
    expect(broken).not.toBe(overlayText);
    const file = path.join(scratch, 'broken.yaml');
    writeFileSync(file, broken);
    const r = validate([file]);
    expect(r.status).toBe(1);
    expect(r.out).toMatch(/✗ apps\/v1\/Deployment mis-cache-sync .*replicas must be integer/);
    expect(r.out).toMatch(
      /✗ kafka.strimzi.io\/v1\/KafkaConnector mis-connector .*tasksMax must be integer/,
    );
    expect(r.out).toMatch(/✗ example.com\/v1\/Gadget x .*no schema/);
  });

  it('probes ask the service’s own endpoints on its HTTP port', () => {
    const http = readFileSync(path.join(REPO, 'src/telemetry/http.ts'), 'utf8');
    expect(http).toContain("case '/healthz'");
    expect(http).toContain("case '/readyz'");
    expect(http).toContain("case '/metrics'");
    const port = container.ports.find((p: { name: string }) => p.name === 'http');
    expect(String(port.containerPort)).toBe(env.get('MCS_HTTP_PORT'));
    expect(env.get('MCS_HTTP_HOST')).toBe('0.0.0.0');
    expect(env.get('MCS_HTTP_ENABLED')).toBe('true');
    expect(container.startupProbe.httpGet).toEqual({ path: '/healthz', port: 'http' });
    expect(container.livenessProbe.httpGet).toEqual({ path: '/healthz', port: 'http' });
    expect(container.readinessProbe.httpGet).toEqual({ path: '/readyz', port: 'http' });
    const monitor = one(overlay, 'ServiceMonitor');
    expect(monitor.spec.endpoints).toEqual([
      expect.objectContaining({ port: 'http', path: '/metrics' }),
    ]);
    const service = one(overlay, 'Service', 'mis-cache-sync');
    expect(service.spec.ports[0].targetPort).toBe('http');
    for (const [k, v] of Object.entries(monitor.spec.selector.matchLabels))
      expect(service.metadata.labels?.[k]).toBe(v);
  });

  it('terminationGracePeriodSeconds is above the graceful stop', () => {
    expect(pod.terminationGracePeriodSeconds * 1000).toBeGreaterThan(STOP_TIMEOUT_MS);
  });

  it('replicas and the autoscaler stay within the change topics’ partitions', () => {
    for (const manifests of [overlay, parseAll(baseText)]) {
      const d = one(manifests, 'Deployment', 'mis-cache-sync');
      const scaled = one(manifests, 'ScaledObject');
      const partitions = Number(
        scaled.metadata.annotations?.['mis-cache-sync/change-topic-partitions'],
      );
      expect(partitions).toBeGreaterThan(0);
      expect(scaled.spec.scaleTargetRef.name).toBe(d.metadata.name);
      expect(scaled.spec.maxReplicaCount).toBe(partitions);
      expect(d.spec.replicas).toBeLessThanOrEqual(partitions);
      expect(scaled.spec.minReplicaCount).toBeLessThanOrEqual(scaled.spec.maxReplicaCount);
      const kafka = scaled.spec.triggers.find((t: { type: string }) => t.type === 'kafka');
      expect(kafka.metadata.allowIdleConsumers).toBe('false');
      expect(kafka.metadata.consumerGroup).toBe(one(manifests, 'ConfigMap').data?.MCS_GROUP_ID);
    }
  });

  it('the disruption budget and the network policy select the service’s pods', () => {
    const labels = deployment.spec.template.metadata.labels;
    for (const m of [one(overlay, 'PodDisruptionBudget'), one(overlay, 'NetworkPolicy')]) {
      const sel = m.kind === 'NetworkPolicy' ? m.spec.podSelector : m.spec.selector;
      for (const [k, v] of Object.entries(sel.matchLabels)) expect(labels[k]).toBe(v);
    }
    const np = one(overlay, 'NetworkPolicy');
    expect(np.spec.ingress[0].ports).toEqual([
      { port: Number(env.get('MCS_HTTP_PORT')), protocol: 'TCP' },
    ]);
  });

  it('every *_FILE setting names a key of the mounted Secret', () => {
    const secret = one(overlay, 'Secret', 'mis-cache-sync-secrets');
    const volume = pod.volumes.find(
      (v: { secret?: { secretName: string } }) => v.secret?.secretName === secret.metadata.name,
    );
    const mount = container.volumeMounts.find((m: { name: string }) => m.name === volume.name);
    const configMap = one(overlay, 'ConfigMap').data ?? {};
    const files = [...env, ...Object.entries(configMap)].filter(([k]) => k.endsWith('_FILE'));
    expect(files.length).toBeGreaterThanOrEqual(4);
    for (const [name, value] of files) {
      expect([name, path.dirname(value ?? '')]).toEqual([name, mount.mountPath]);
      expect([name, Object.keys(secret.data ?? {})]).toEqual([
        name,
        expect.arrayContaining([path.basename(value ?? '')]),
      ]);
    }
    const auth = one(overlay, 'TriggerAuthentication');
    for (const ref of auth.spec.secretTargetRef) {
      expect(ref.name).toBe(secret.metadata.name);
      expect(Object.keys(secret.data ?? {})).toContain(ref.key);
    }
  });

  it('the check Job runs with exactly the Deployment’s settings, secrets and security', () => {
    const job = one(
      parseAll(kustomize('kubernetes/overlays/example/check')),
      'Job',
      'mis-cache-sync-check',
    );
    const jobPod = job.spec.template.spec;
    const [jobContainer] = jobPod.containers;
    expect(jobContainer.args).toEqual(['check']);
    expect(jobContainer.image).toBe(container.image);
    expect(job.metadata.namespace).toBe(deployment.metadata.namespace);
    for (const key of ['env', 'envFrom', 'volumeMounts', 'securityContext'])
      expect([key, jobContainer[key]]).toEqual([key, container[key]]);
    for (const key of ['volumes', 'securityContext', 'serviceAccountName'])
      expect([key, jobPod[key]]).toEqual([key, pod[key]]);
  });

  it('the settings selector picks the ConfigMap and the Secret, nothing else', () => {
    const settings = overlay.filter(
      (m) => m.metadata.labels?.['app.kubernetes.io/component'] === 'settings',
    );
    expect(settings.map((m) => `${m.kind}/${m.metadata.name}`).sort()).toEqual([
      'ConfigMap/mis-cache-sync-env',
      'Secret/mis-cache-sync-secrets',
    ]);
  });

  it('kubectl kustomize is the real kustomize (v4 or later)', () => {
    const version = execFileSync('kubectl', ['version', '--client'], { encoding: 'utf8' });
    expect(version).toMatch(/Kustomize Version: v([4-9]|\d{2,})\./);
  });
});
