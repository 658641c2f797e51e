// Rewrites the settings table of docs/configuration.md (between the settings markers) from
// src/config/settings.ts, via the build output. Run: npm run docs:settings
const { readFileSync, writeFileSync } = require('node:fs');
const path = require('node:path');
const { SETTINGS } = require('../dist/src/config/settings.js');

const doc = path.join(__dirname, '..', 'docs', 'configuration.md');
const rows = SETTINGS.map((s) => {
  const def = 'default' in s ? (s.default === '' ? '(empty)' : `\`${s.default}\``) : '**required**';
  return `| \`${s.env}\` | \`${s.yaml}\` | ${def} | ${s.doc.replace(/\|/g, '\\|')} |`;
});
const table = ['| environment | YAML key | default | meaning |', '|---|---|---|---|', ...rows].join(
  '\n',
);
const text = readFileSync(doc, 'utf8');
const re = /(<!-- settings:start -->\n)[\s\S]*?(\n<!-- settings:end -->)/;
if (!re.test(text)) throw new Error('docs/configuration.md has no settings markers');
// A replacer function: `$` sequences in doc strings (e.g. notify flags `Kg$xe`) stay literal.
writeFileSync(
  doc,
  text.replace(re, (_m, start, end) => `${start}${table}${end}`),
);
