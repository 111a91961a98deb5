import { Inject, Injectable, Logger } from '@nestjs/common';
import { ModuleRef } from '@nestjs/core';
import { OpenAIRealtimeService, type CallSession } from '../realtime/openai-realtime.service.js';
import type { ToolRegistry } from '../tools/tool-registry.service.js';
import { callControlConfig, openaiConfig } from '../config/config.namespaces.js';
import type { CallControlConfig, OpenAIConfig } from '../config/config.namespaces.js';
import type { CallContext } from './call-context.js';
import type { CallPlan } from './call-plans.service.js';
import {
  CALL_SETTINGS_RESOLVER,
  CALL_SETTINGS_TIMEOUT_MS,
  type CallSettingsChoice,
  type CallSettingsResolver,
} from './call-settings-resolver.js';

export interface CallSettings extends CallSettingsChoice {
  /** Said after a response was cut short (RECOVERY_MESSAGE, or the profile's `recovery`). */
  recoveryMessage: string;
}

/**
 * What the assistant of one call is told and sounds like: the defaults (AI_INSTRUCTIONS,
 * OPENAI_VOICE, AI_GREETING), overridden by the call's named profile (CALL_PROFILES), overridden
 * by what `POST /api/calls` asked for; then, for every call (media stream or SIP), by what the
 * application's CALL_SETTINGS_RESOLVER chooses (if it answers within CALL_SETTINGS_TIMEOUT_MS).
 */
@Injectable()
export class CallSettingsService {
  private readonly log = new Logger('CallSettings');
  private resolver?: CallSettingsResolver | null;

  constructor(
    @Inject(openaiConfig.KEY) private readonly openai: OpenAIConfig,
    @Inject(callControlConfig.KEY) private readonly callControl: CallControlConfig,
    private readonly moduleRef: ModuleRef,
    private readonly realtime: OpenAIRealtimeService,
  ) {}

  /** The call's settings: the defaults for its profile and plan, overridden by the resolver's choice. */
  async resolveFor(call: CallContext, plan: CallPlan | undefined): Promise<CallSettings> {
    const defaults = this.settingsFor(call.profile, plan);
    const resolver = this.findResolver();
    if (!resolver) return defaults;
    const description = {
      callSid: call.callSid,
      from: call.from,
      to: call.to,
      direction: plan ? ('outbound' as const) : ('inbound' as const),
      customParameters: call.customParameters,
      profile: call.profile,
      defaults: { ...defaults },
    };
    let timer: NodeJS.Timeout | undefined;
    try {
      const timeout = new Promise<never>((_, reject) => {
        timer = setTimeout(
          () => reject(new Error(`no answer within ${CALL_SETTINGS_TIMEOUT_MS} ms`)),
          CALL_SETTINGS_TIMEOUT_MS,
        );
      });
      const chosen = definedFields(
        (await Promise.race([resolver.resolve(description), timeout])) ?? {},
      );
      if (chosen.deployment !== undefined && !this.deploymentAllowed(call, chosen.deployment)) {
        delete chosen.deployment;
      }
      return { ...defaults, ...chosen };
    } catch (error) {
      this.log.warn(
        `call ${call.callSid}: the settings resolver failed (${(error as Error).message}); using the defaults`,
      );
      return defaults;
    } finally {
      clearTimeout(timer);
    }
  }

  /** A resolver's deployment: a well-formed name, and only in Azure mode (else: warned, dropped). */
  private deploymentAllowed(call: CallContext, deployment: unknown): boolean {
    const problem = !this.openai.azure
      ? "deployments are Azure OpenAI's (AZURE_OPENAI_ENDPOINT is not set)"
      : typeof deployment !== 'string' || !DEPLOYMENT_NAME.test(deployment)
        ? 'it is not a deployment name (letters, digits, ".", "_", "-", at most 64)'
        : undefined;
    if (problem) {
      this.log.warn(`call ${call.callSid}: the resolver chose a deployment; ignored: ${problem}`);
    }
    return problem === undefined;
  }

  /** The application's resolver, looked up once across every module (none: null). */
  private findResolver(): CallSettingsResolver | null {
    if (this.resolver === undefined) {
      try {
        this.resolver = this.moduleRef.get<CallSettingsResolver>(CALL_SETTINGS_RESOLVER, {
          strict: false,
        });
      } catch {
        this.resolver = null;
      }
    }
    return this.resolver;
  }

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
      turnDetection: this.realtime.turnDetection,
      transcription: this.realtime.transcription,
      deployment: this.openai.azure?.deployment,
    };
  }
}

/**
 * What a call's session is configured with, from its resolved settings: the same for both
 * transports (the media path's `session.update`, the SIP accept), only the tools it is offered.
 */
export function sessionOf(
  settings: CallSettings,
  tools: Pick<ToolRegistry, 'sessionTools'>,
): CallSession {
  const { instructions, voice, turnDetection, transcription, deployment } = settings;
  return {
    instructions,
    voice,
    turnDetection,
    transcription,
    deployment,
    tools: tools.sessionTools(settings.tools),
  };
}

const CHOSEN_FIELDS = [
  'instructions',
  'voice',
  'greeting',
  'tools',
  'turnDetection',
  'transcription',
  'deployment',
] as const;

/** The characters Azure allows in a deployment's name, and its length limit. */
const DEPLOYMENT_NAME = /^[A-Za-z0-9._-]{1,64}$/;

/**
 * Only the fields a resolver may choose, and only those it set: `{ voice: undefined }` keeps the
 * default, while `null` (turn detection, transcription) is a choice: switch it off.
 */
function definedFields(chosen: Partial<CallSettingsChoice>): Partial<CallSettingsChoice> {
  const fields: Partial<CallSettingsChoice> = {};
  for (const field of CHOSEN_FIELDS) {
    if (chosen[field] !== undefined) Object.assign(fields, { [field]: chosen[field] });
  }
  return fields;
}
