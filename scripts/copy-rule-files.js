// tsc compiles consumers/*.ts but does not copy YAML rule files: copy them next to the
// compiled rules so the built service (dist/) loads every table.
const { copyFileSync, mkdirSync, readdirSync } = require('node:fs');
const path = require('node:path');

const src = path.join(__dirname, '..', 'consumers');
const out = path.join(__dirname, '..', 'dist', 'consumers');
mkdirSync(out, { recursive: true });
for (const f of readdirSync(src))
  if (/\.ya?ml$/.test(f)) copyFileSync(path.join(src, f), path.join(out, f));
