const LABEL_SHAPE = /^[a-z0-9_.]{1,64}$/i;

/**
 * The values one label may take when a peer chooses them: the first `max` seen, each shaped
 * like an identifier; anything past them, or not so shaped, is `other`.
 */
export class BoundedLabel {
  private readonly seen = new Set<string>();

  constructor(private readonly max: number) {}

  of(value: string): string {
    if (this.seen.has(value)) return value;
    if (!LABEL_SHAPE.test(value) || this.seen.size >= this.max) return 'other';
    this.seen.add(value);
    return value;
  }
}
