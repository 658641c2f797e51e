import { readFileSync } from 'node:fs';
import path from 'node:path';
import { SETTINGS } from '../../../src/config/settings';

// The README's configuration table is the users' reference: every setting must be in it.
describe('README configuration reference', () => {
  const readme = readFileSync(path.resolve(__dirname, '../../../README.md'), 'utf8');
  it.each(SETTINGS.map((s) => [s.env, s.yaml]))('documents %s (%s)', (env, yaml) => {
    expect(readme).toMatch(
      new RegExp(`\\|\\s*\`${env}\`\\s*\\|\\s*\`${yaml.replace(/\./g, '\\.')}\`\\s*\\|`),
    );
  });
});
