import { readFileSync } from 'node:fs';
import path from 'node:path';
import { SETTINGS } from '../../../src/config/settings';

// The settings table of docs/configuration.md is the users' reference: every setting must be in it.
describe('docs/configuration.md settings reference', () => {
  const doc = readFileSync(path.resolve(__dirname, '../../../docs/configuration.md'), 'utf8');
  it.each(SETTINGS.map((s) => [s.env, s.yaml]))('documents %s (%s)', (env, yaml) => {
    expect(doc).toMatch(
      new RegExp(`\\|\\s*\`${env}\`\\s*\\|\\s*\`${yaml.replace(/\./g, '\\.')}\`\\s*\\|`),
    );
  });
});
