// The containers suite (npm run test:containers): a Docker engine (the one at DOCKER_HOST, else
// the private dockerd of scripts/stack/docker.sh), the stack images built from stack/docker/*
// with the jars of stack/pom.xml, and the service image (Dockerfile). Builds are skipped when an
// image is current. Each test file then starts its own containers on its own ports.
const { execFileSync } = require('node:child_process');
const path = require('node:path');

module.exports = async function globalSetup() {
  const root = path.resolve(__dirname, '..', '..', '..');
  const stackDir = process.env.STACK_DIR || path.join(root, '.stack');
  const env = { ...process.env, STACK_ENGINE: 'docker', STACK_DIR: stackDir };
  let t = Date.now();
  const started = t;
  const lap = (what) => {
    console.log(`[containers] ${what} in ${((Date.now() - t) / 1000).toFixed(1)} s`);
    t = Date.now();
  };
  execFileSync('bash', [path.join(root, 'scripts', 'stack.sh'), 'libs'], {
    cwd: root,
    env,
    stdio: 'inherit',
  });
  lap('engine, jars and stack images');
  const out = execFileSync('bash', [path.join(root, 'scripts', 'stack', 'docker.sh'), 'images'], {
    cwd: root,
    env,
    stdio: ['ignore', 'pipe', 'inherit'],
  }).toString();
  lap('service image');
  const host = /^DOCKER_HOST=(.*)$/m.exec(out);
  if (!host) throw new Error(`scripts/stack/docker.sh images printed no DOCKER_HOST:\n${out}`);
  process.env.DOCKER_HOST = host[1];
  // Ryuk (the reaper container) cannot be pulled here: every test file removes its containers.
  process.env.TESTCONTAINERS_RYUK_DISABLED = 'true';
  // The engine runs with --bridge=none: testcontainers must not look for the bridge gateway;
  // every container uses the host network, so the host is loopback.
  process.env.TESTCONTAINERS_HOST_OVERRIDE = '127.0.0.1';
  console.log(
    `[containers] engine ${host[1]}, images ready in ${((Date.now() - started) / 1000).toFixed(1)} s`,
  );
};
