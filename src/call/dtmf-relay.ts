/** Quiet time after the last key press before the digits go to the model as one message. */
const DTMF_QUIET_MS = 800;
/** Digits kept for one message; more (a flood, not a person) are dropped. */
const MAX_DIGITS_PER_MESSAGE = 64;

/**
 * Collects key presses and hands them on as one text ("The caller pressed 1 2 3 #") once the
 * caller stops typing, so an account number is one turn for the model, not one per digit.
 */
export class DtmfRelay {
  private digits: string[] = [];
  private timer?: NodeJS.Timeout;

  constructor(private readonly deliver: (text: string) => void) {}

  press(digit: string): void {
    if (this.digits.length < MAX_DIGITS_PER_MESSAGE) this.digits.push(digit);
    clearTimeout(this.timer);
    this.timer = setTimeout(() => this.flush(), DTMF_QUIET_MS);
  }

  dispose(): void {
    clearTimeout(this.timer);
    this.digits = [];
  }

  private flush(): void {
    const digits = this.digits;
    this.digits = [];
    if (digits.length > 0) {
      this.deliver(`[The caller pressed ${digits.join(' ')} on their phone keypad.]`);
    }
  }
}
