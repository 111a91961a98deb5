import { readFileSync } from 'node:fs';
import { envSchema } from '../src/config/env.schema.js';

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
});
