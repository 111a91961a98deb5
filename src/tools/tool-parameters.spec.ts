import { z } from 'zod';
import { compileParameters } from './tool-parameters.js';

describe('compileParameters', () => {
  it("derives the model's JSON Schema from a zod object: inputs, descriptions, no $schema", () => {
    const { jsonSchema } = compileParameters(
      z.object({
        day: z.string().describe('A day of the week'),
        hour: z.number().int().default(9),
      }),
    );
    expect(jsonSchema).toEqual({
      type: 'object',
      properties: {
        day: { type: 'string', description: 'A day of the week' },
        hour: expect.objectContaining({ type: 'integer', default: 9 }),
      },
      // A field with a default is optional to the model, which writes the schema's input.
      required: ['day'],
    });
  });

  it("returns the schema's output for valid arguments", async () => {
    const { parse } = compileParameters(
      z.object({ day: z.string().trim().toLowerCase(), hour: z.number().default(9) }),
    );
    await expect(parse({ day: ' Monday ' })).resolves.toEqual({
      ok: true,
      value: { day: 'monday', hour: 9 },
    });
  });

  it('lists every problem with its path for invalid arguments', async () => {
    const { parse } = compileParameters(
      z.object({ day: z.enum(['mon', 'tue']), slot: z.object({ hour: z.number().max(23) }) }),
    );
    const parsed = await parse({ day: 'sun', slot: { hour: 25 } });
    expect(parsed.ok).toBe(false);
    expect(!parsed.ok && parsed.problems.split('; ')).toEqual([
      expect.stringMatching(/^day: .*"mon"\|"tue"/),
      expect.stringMatching(/^slot\.hour: .*<=23/),
    ]);
  });

  it('runs async refinements', async () => {
    const { parse } = compileParameters(
      z.object({ id: z.string().refine(async (id) => Promise.resolve(id.startsWith('A'))) }),
    );
    await expect(parse({ id: 'B1' })).resolves.toMatchObject({ ok: false });
    await expect(parse({ id: 'A1' })).resolves.toMatchObject({ ok: true });
  });

  it('gives a tool without parameters an empty object schema', async () => {
    const { jsonSchema, parse } = compileParameters(undefined);
    expect(jsonSchema).toEqual({ type: 'object', properties: {} });
    await expect(parse({})).resolves.toEqual({ ok: true, value: {} });
  });

  it('passes a raw JSON Schema through and leaves its arguments to the handler', async () => {
    const raw = { type: 'object', properties: { n: { type: 'number' } }, required: ['n'] };
    const { jsonSchema, parse } = compileParameters(raw);
    expect(jsonSchema).toBe(raw);
    await expect(parse({ n: 'not checked' })).resolves.toEqual({
      ok: true,
      value: { n: 'not checked' },
    });
  });

  it('refuses parameters that are not an object schema', () => {
    expect(() => compileParameters({ type: 'string' })).toThrow(
      /must describe an object.*"string"/,
    );
    expect(() => compileParameters(z.array(z.string()))).toThrow(/must describe an object/);
  });

  it('refuses a zod schema that JSON Schema cannot express', () => {
    expect(() => compileParameters(z.object({ at: z.date() }))).toThrow(
      /cannot be expressed as JSON Schema: Date/,
    );
  });
});
