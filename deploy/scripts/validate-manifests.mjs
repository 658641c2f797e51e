// Validates rendered manifests against the Kubernetes and CRD schemas, with no cluster:
//   node deploy/scripts/validate-manifests.mjs [file.yaml ...]   (default: the example overlay,
//   rendered by `kubectl kustomize`). Prints one line per resource, exits 1 on any error.
// Kubernetes, KEDA and prometheus-operator kinds: the kubernetes-models packages (validators
// compiled from the Kubernetes OpenAPI schema and those projects' CRDs); Strimzi kinds: ajv on
// the openAPIV3Schema of Strimzi's own CRDs (test/unit/deploy/schemas/strimzi-1.2.0/, copied
// from the release, as no npm package ships them). A kind none of them knows is an error.
import { execFileSync } from 'node:child_process';
import { readFileSync, readdirSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import path from 'node:path';
import { Ajv } from 'ajv';
import YAML from 'yaml';

const repo = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..');
const strimziDir = path.join(repo, 'test', 'unit', 'deploy', 'schemas', 'strimzi-1.2.0');

const MODELS = {
  'keda.sh': (version, kind) => `@kubernetes-models/keda/keda.sh/${version}/${kind}`,
  'monitoring.coreos.com': (version, kind) =>
    `@kubernetes-models/prometheus-operator/monitoring.coreos.com/${version}/${kind}`,
};

/** Validators from Strimzi's CRDs, by "apiVersion/kind". */
function strimziValidators() {
  const ajv = new Ajv({ strict: false, allErrors: true });
  const out = new Map();
  for (const file of readdirSync(strimziDir).filter((f) => f.endsWith('.yaml'))) {
    const crd = YAML.parse(readFileSync(path.join(strimziDir, file), 'utf8'));
    for (const v of crd.spec.versions) {
      const key = `${crd.spec.group}/${v.name}/${crd.spec.names.kind}`;
      out.set(key, ajv.compile(v.schema.openAPIV3Schema));
    }
  }
  return out;
}

async function modelOf(apiVersion, kind) {
  const [group, version] = apiVersion.includes('/') ? apiVersion.split('/') : ['', apiVersion];
  const spec = MODELS[group]
    ? MODELS[group](version, kind)
    : `kubernetes-models/${group ? `${group}/` : ''}${version}/${kind}`;
  try {
    return (await import(spec))[kind];
  } catch {
    return undefined;
  }
}

function documents(files) {
  const texts = files.length
    ? files.map((f) => ({ name: f, text: readFileSync(f, 'utf8') }))
    : [
        {
          name: 'deploy/kubernetes/overlays/example',
          text: execFileSync(
            'kubectl',
            ['kustomize', path.join(repo, 'deploy/kubernetes/overlays/example')],
            { encoding: 'utf8' },
          ),
        },
      ];
  return texts.flatMap(({ name, text }) =>
    YAML.parseAllDocuments(text)
      .map((d) => d.toJS())
      .filter((d) => d !== null)
      .map((doc) => ({ name, doc })),
  );
}

/**
 * kustomize folds long base64 Secret data over lines; the API server's base64 decoding skips
 * line breaks, the schema's "byte" format does not, so they are dropped before validating.
 */
function normalised(doc) {
  if (doc.apiVersion !== 'v1' || doc.kind !== 'Secret' || !doc.data) return doc;
  const data = Object.fromEntries(
    Object.entries(doc.data).map(([k, v]) => [
      k,
      typeof v === 'string' ? v.replace(/\s+/g, '') : v,
    ]),
  );
  return { ...doc, data };
}

const strimzi = strimziValidators();
let failed = 0;
let passed = 0;
for (const { name, doc } of documents(process.argv.slice(2))) {
  const what = `${doc.apiVersion}/${doc.kind} ${doc.metadata?.name ?? '(no name)'} (${name})`;
  let error;
  const crd = strimzi.get(`${doc.apiVersion}/${doc.kind}`);
  if (crd) {
    if (!crd(doc))
      error = crd.errors.map((e) => `${e.instancePath || '/'} ${e.message}`).join('; ');
  } else {
    const Model = await modelOf(doc.apiVersion, doc.kind);
    if (!Model) error = 'no schema for this apiVersion/kind';
    else {
      try {
        new Model(normalised(doc)).validate();
      } catch (err) {
        error = err.message;
      }
    }
  }
  if (!doc.metadata?.name) error = `${error ? `${error}; ` : ''}metadata.name missing`;
  if (error) {
    failed += 1;
    process.stdout.write(`✗ ${what}: ${error}\n`);
  } else {
    passed += 1;
    process.stdout.write(`✓ ${what}\n`);
  }
}
process.stdout.write(`manifests: ${passed} valid, ${failed} invalid\n`);
process.exit(failed > 0 || passed === 0 ? 1 : 0);
