import { Injectable } from '@nestjs/common';
import type { Takeover } from './takeover.js';

/**
 * The takeovers of the media calls running on this instance, by CallSid: how an operator's
 * listen socket reaches the call whose line it may take. A call registers its Takeover when it
 * begins and leaves when it ends.
 */
@Injectable()
export class Takeovers {
  private readonly live = new Map<string, Takeover>();

  of(callSid: string): Takeover | undefined {
    return this.live.get(callSid);
  }

  add(callSid: string, takeover: Takeover): void {
    this.live.set(callSid, takeover);
  }

  remove(callSid: string, takeover: Takeover): void {
    if (this.live.get(callSid) === takeover) this.live.delete(callSid);
  }
}
