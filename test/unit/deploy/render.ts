/** The deploy/ manifests as Kubernetes would get them: rendered by kustomize (`kubectl kustomize`). */
import { execFileSync } from 'node:child_process';
import path from 'node:path';
import YAML from 'yaml';

export const REPO = path.resolve(__dirname, '..', '..', '..');
export const DEPLOY = path.join(REPO, 'deploy');

export interface Manifest {
  apiVersion: string;
  kind: string;
  metadata: {
    name: string;
    namespace?: string;
    labels?: Record<string, string>;
    annotations?: Record<string, string>;
  };
  // eslint-disable-next-line @typescript-eslint/no-explicit-any
  spec?: any;
  data?: Record<string, string>;
}

/** kustomize as kubectl embeds it (kubectl ≥ 1.21 carries kustomize v4+; this machine's has v5). */
export function kustomize(dir: string): string {
  try {
    return execFileSync('kubectl', ['kustomize', path.join(DEPLOY, dir)], { encoding: 'utf8' });
  } catch (err) {
    const e = err as NodeJS.ErrnoException & { stderr?: string };
    if (e.code === 'ENOENT')
      throw new Error('kubectl not found: it renders the kustomize overlays (kubectl kustomize)');
    throw new Error(`kubectl kustomize ${dir} failed: ${e.stderr ?? e.message}`);
  }
}

export function parseAll(text: string): Manifest[] {
  return YAML.parseAllDocuments(text)
    .map((d) => d.toJS() as Manifest | null)
    .filter((d): d is Manifest => d !== null);
}

export function one(manifests: Manifest[], kind: string, name?: string): Manifest {
  const found = manifests.filter(
    (m) => m.kind === kind && (name === undefined || m.metadata.name === name),
  );
  if (found.length !== 1)
    throw new Error(`expected one ${kind}${name ? ` ${name}` : ''}, found ${found.length}`);
  return found[0] as Manifest;
}

/** KEY=value lines of a properties or environment file (comments and blanks skipped). */
export function keyValues(text: string, separator: '=' = '='): Map<string, string> {
  const out = new Map<string, string>();
  for (const line of text.split('\n')) {
    const t = line.trim();
    if (t === '' || t.startsWith('#')) continue;
    const at = t.indexOf(separator);
    if (at < 0) throw new Error(`not a key${separator}value line: ${t}`);
    out.set(t.slice(0, at), t.slice(at + 1));
  }
  return out;
}
