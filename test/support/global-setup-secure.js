// The `secure` project: the same global setup on the locked-down stack (STACK_SECURE=1: TLS,
// SASL/SCRAM, ACLs). A plain stack running in the same STACK_DIR is stopped and replaced.
const globalSetup = require('./global-setup');

module.exports = async function globalSetupSecure() {
  process.env.STACK_SECURE = '1';
  await globalSetup();
};
