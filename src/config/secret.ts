import { inspect } from 'node:util';

/**
 * A value that must never be printed. Logging, JSON-serialising or string-interpolating it yields
 * `[redacted]`; only `reveal()` gives the value, so every use of a secret is explicit and greppable.
 */
export class Secret {
  readonly #value: string;

  constructor(value: string) {
    this.#value = value;
  }

  reveal(): string {
    return this.#value;
  }

  toString(): string {
    return '[redacted]';
  }

  toJSON(): string {
    return '[redacted]';
  }

  [inspect.custom](): string {
    return '[redacted]';
  }
}
