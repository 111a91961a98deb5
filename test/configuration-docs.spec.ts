import { readFileSync } from 'node:fs';
import { envSchema } from '../src/config/env.schema.js';
import { SETTING_FIELDS } from '../src/config/setting-fields.js';

const read = (path: string) => readFileSync(new URL(`../${path}`, import.meta.url), 'utf8');

// An operator learns the settings from docs/configuration.md and .env.example: a variable the
// schema reads but neither names is a setting nobody can find.
describe('the configuration reference', () => {
  const docs = read('docs/configuration.md');
  const example = read('.env.example');

  it.each(Object.keys(envSchema.shape))(
    'documents %s in docs/configuration.md and .env.example',
    (key) => {
      expect(docs).toContain(`\`${key}\``);
      expect(example).toContain(key);
    },
  );

  it.each(Object.entries(SETTING_FIELDS))(
    'names the option of %s in docs/configuration.md',
    (key, field) => {
      expect(docs).toMatch(
        new RegExp(`^\\| \`${key}\` \\| \`${field.path.replace('.', '\\.')}\` \\|`, 'm'),
      );
    },
  );
});
