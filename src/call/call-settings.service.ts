import { Inject, Injectable, Logger } from '@nestjs/common';
import { OpenAIRealtimeService, type CallSession } from '../realtime/openai-realtime.service.js';
import { ToolRegistry } from '../tools/tool-registry.service.js';
import { callControlConfig, openaiConfig } from '../config/config.namespaces.js';
import type { CallControlConfig, OpenAIConfig } from '../config/config.namespaces.js';
import { sentenceProblem, type CallContext } from './call-context.js';
import type { CallPlan } from './call-plans.service.js';
import {
  CALL_SETTINGS_TIMEOUT_MS,
  type CallDescription,
  type CallSettingsChoice,
} from './call-settings-resolver.js';
import { CallResolvers } from './call-resolvers.service.js';
import { instructionsProblem, toolNamesProblem } from '../realtime/session-bounds.js';

export interface CallSettings extends CallSettingsChoice {
  /** Said after a response was cut short (RECOVERY_MESSAGE, or the profile's `recovery`). */
  recoveryMessage: string;
}

/**
 * What the assistant of one call is told and sounds like: the defaults (AI_INSTRUCTIONS,
 * OPENAI_VOICE, AI_GREETING), overridden by the call's named profile (CALL_PROFILES), overridden
 * by what `POST /api/calls` asked for; then, for every call (media stream or SIP), by what the
 * application's settings resolver chooses, and its tool resolver, if it has them (each within
 * CALL_SETTINGS_TIMEOUT_MS).
 */
@Injectable()
export class CallSettingsService {
  private readonly log = new Logger('CallSettings');

  constructor(
    @Inject(openaiConfig.KEY) private readonly openai: OpenAIConfig,
    @Inject(callControlConfig.KEY) private readonly callControl: CallControlConfig,
    private readonly resolvers: CallResolvers,
    private readonly realtime: OpenAIRealtimeService,
    private readonly registry: ToolRegistry,
  ) {}

  /**
   * The call's settings: the defaults for its profile and plan, overridden by the settings
   * resolver's choice; then the tool resolver's choice of tools.
   */
  async resolveFor(call: CallContext, plan: CallPlan | undefined): Promise<CallSettings> {
    const defaults = this.settingsFor(call.profile, plan);
    const { settings: settingsResolver, tools: toolResolver } = this.resolvers;
    if (!settingsResolver && !toolResolver) return defaults;
    const description: CallDescription = {
      callSid: call.callSid,
      from: call.from,
      to: call.to,
      direction: plan ? 'outbound' : 'inbound',
      customParameters: call.customParameters,
      profile: call.profile,
      defaults: { ...defaults },
    };
    let settings = defaults;
    if (settingsResolver) {
      const chosen = definedFields(
        (await this.ask(call, 'settings', async () =>
          withinBounds(await settingsResolver.resolve(description)),
        )) ?? {},
      );
      if (chosen.deployment !== undefined && !this.deploymentAllowed(call, chosen.deployment)) {
        delete chosen.deployment;
      }
      settings = { ...defaults, ...chosen };
    }
    if (toolResolver) {
      const offered = settings.tools ?? this.registry.names();
      const chosen = await this.ask(
        call,
        'tool',
        async () => withinBounds({ tools: await toolResolver.resolve(description, offered) }).tools,
      );
      if (chosen) settings = { ...settings, tools: this.offeredOnly(call, chosen, offered) };
    }
    return settings;
  }

  /** A resolver's answer within CALL_SETTINGS_TIMEOUT_MS; undefined (the defaults) otherwise. */
  private async ask<T>(
    call: CallContext,
    kind: string,
    resolve: () => T | Promise<T>,
  ): Promise<T | undefined> {
    let timer: NodeJS.Timeout | undefined;
    try {
      const timeout = new Promise<never>((_, reject) => {
        timer = setTimeout(
          () => reject(new Error(`no answer within ${CALL_SETTINGS_TIMEOUT_MS} ms`)),
          CALL_SETTINGS_TIMEOUT_MS,
        );
      });
      return await Promise.race([resolve(), timeout]);
    } catch (error) {
      this.log.warn(
        `call ${call.callSid}: the ${kind} resolver failed (${(error as Error).message}); using the defaults`,
      );
      return undefined;
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

  /** The tool resolver chooses among the tools the call would be offered, and only those. */
  private offeredOnly(
    call: CallContext,
    chosen: readonly string[],
    offered: readonly string[],
  ): readonly string[] {
    const unknown = chosen.filter((name) => !offered.includes(name));
    if (unknown.length > 0) {
      this.log.warn(
        `call ${call.callSid}: the tool resolver chose tools the call is not offered (${unknown.join(', ')}); dropped`,
      );
    }
    return chosen.filter((name) => offered.includes(name));
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

/**
 * A resolver's answer, if what it chose fits in a session (MAX_INSTRUCTIONS_BYTES, MAX_TOOLS) and
 * its greeting is a sentence (MAX_SAY_CHARS); otherwise it throws, and the call goes on with its defaults as after any failed resolver: the
 * instructions and tools of one answer go together, so half of it is not kept.
 */
function withinBounds<T extends Partial<CallSettingsChoice> | undefined>(chosen: T): T {
  const { instructions, tools, greeting } = chosen ?? {};
  const longGreeting = typeof greeting === 'string' ? sentenceProblem(greeting) : undefined;
  const problem =
    (typeof instructions === 'string' ? instructionsProblem(instructions) : undefined) ??
    (longGreeting && `a greeting of ${longGreeting}`) ??
    (Array.isArray(tools) ? toolNamesProblem(tools) : undefined);
  if (problem) throw new Error(`it chose ${problem}`);
  return chosen;
}

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
