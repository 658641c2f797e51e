// The `secure` project: the same global setup on the locked-down stack (STACK_SECURE=1: TLS,
// SASL/SCRAM, ACLs; a plain stack running in the same STACK_DIR is stopped and replaced), and
// the service built once for the tests that run it as a process.
const { execFileSync } = require('node:child_process');
const path = require('node:path');
const globalSetup = require('./global-setup');

module.exports = async function globalSetupSecure() {
  process.env.STACK_SECURE = '1';
  await globalSetup();
  execFileSync('npm', ['run', 'build', '--silent'], {
    cwd: path.resolve(__dirname, '..', '..'),
    stdio: 'inherit',
  });
};
