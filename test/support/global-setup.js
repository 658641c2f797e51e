// Starts the real local stack once per run (idempotent: a healthy stack is reused) and loads
// its .stack/env into the environment the test workers inherit.
const { execFileSync } = require('node:child_process');
const { readFileSync } = require('node:fs');
const path = require('node:path');

module.exports = async function globalSetup() {
  const root = path.resolve(__dirname, '..', '..');
  const started = Date.now();
  execFileSync('bash', [path.join(root, 'scripts', 'stack.sh'), 'up'], {
    cwd: root,
    stdio: 'inherit',
  });
  // STACK_DIR (honoured by stack.sh too) lets a run use a stack of its own.
  const stackDir = process.env.STACK_DIR || path.join(root, '.stack');
  for (const line of readFileSync(path.join(stackDir, 'env'), 'utf8').split('\n')) {
    const m = /^\s*(?:export\s+)?([A-Z_][A-Z0-9_]*)=(.*)$/.exec(line);
    if (m) process.env[m[1]] = m[2].trim().replace(/^(['"])(.*)\1$/, '$2');
  }
  console.log(`[global-setup] stack ready in ${((Date.now() - started) / 1000).toFixed(1)} s`);
};
