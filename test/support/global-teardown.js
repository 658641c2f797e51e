// Stops the stack after the run when CI asks for it (or MCS_STACK_DOWN=1); a developer's
// stack stays up between runs so the next run starts in seconds.
const { execFileSync } = require('node:child_process');
const path = require('node:path');

module.exports = async function globalTeardown() {
  if (process.env.CI !== 'true' && process.env.MCS_STACK_DOWN !== '1') return;
  const root = path.resolve(__dirname, '..', '..');
  execFileSync('bash', [path.join(root, 'scripts', 'stack.sh'), 'down'], {
    cwd: root,
    stdio: 'inherit',
  });
};
