import { Inject, Injectable } from '@nestjs/common';
import { callControlConfig, openaiConfig } from '../config/config.namespaces.js';
import type { CallControlConfig, OpenAIConfig } from '../config/config.namespaces.js';
import type { CallPlan } from './call-plans.service.js';

export interface CallSettings {
  instructions: string;
  voice: string;
  greeting?: string;
  /** Said after a response was cut short (RECOVERY_MESSAGE, or the profile's `recovery`). */
  recoveryMessage: string;
}

/**
 * What the assistant of one call is told and sounds like: the defaults (AI_INSTRUCTIONS,
 * OPENAI_VOICE, AI_GREETING), overridden by the call's named profile (CALL_PROFILES), overridden
 * by what `POST /api/calls` asked for.
 */
@Injectable()
export class CallSettingsService {
  constructor(
    @Inject(openaiConfig.KEY) private readonly openai: OpenAIConfig,
    @Inject(callControlConfig.KEY) private readonly callControl: CallControlConfig,
  ) {}

  /** The profile for a webhook request: `?profile=` if it names one, else the dialled number's. */
  profileFor(requested: string | undefined, dialled: string | undefined): string | undefined {
    const profiles = this.callControl.profiles;
    if (requested && Object.hasOwn(profiles, requested)) return requested;
    if (!dialled) return undefined;
    return Object.keys(profiles).find((name) => profiles[name].numbers?.includes(dialled));
  }

  settingsFor(profileName: string | undefined, plan: CallPlan | undefined): CallSettings {
    const profile =
      profileName && Object.hasOwn(this.callControl.profiles, profileName)
        ? this.callControl.profiles[profileName]
        : {};
    return {
      instructions: plan?.instructions ?? profile.instructions ?? this.openai.instructions,
      voice: profile.voice ?? this.openai.voice,
      greeting: plan?.greeting ?? profile.greeting ?? this.openai.greeting,
      recoveryMessage: profile.recovery ?? this.callControl.recoveryMessage,
    };
  }
}
