// Stops the private dockerd after the run when CI asks for it (or MCS_STACK_DOWN=1) and this
// stack dir started it; built images stay in the engine's data dir for the next run.
const { execFileSync } = require('node:child_process');
const path = require('node:path');

module.exports = async function globalTeardown() {
  if (process.env.CI !== 'true' && process.env.MCS_STACK_DOWN !== '1') return;
  const root = path.resolve(__dirname, '..', '..', '..');
  const stackDir = process.env.STACK_DIR || path.join(root, '.stack');
  execFileSync(
    'bash',
    [
      path.join(root, 'scripts', 'stack', 'docker.sh'),
      'engine-down',
      path.join(stackDir, 'docker'),
    ],
    {
      cwd: root,
      stdio: 'inherit',
    },
  );
};
