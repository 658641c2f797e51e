#!/usr/bin/env node
/**
 * Entry point of `mis-cache-sync`; the commands are in program.ts (`mis-cache-sync --help`).
 * Exit codes: 0 ok, 1 runtime failure, 2 usage or configuration error.
 */
import { errorMessage } from '../core/errors';
import { runCli } from './program';

runCli(process.argv.slice(2), {
  out: (text) => process.stdout.write(text),
  err: (text) => process.stderr.write(text),
  env: process.env,
}).then(
  (code) => process.exit(code),
  (err) => {
    process.stderr.write(`mis-cache-sync: ${errorMessage(err)}\n`);
    process.exit(1);
  },
);
