// identify.request: who is this palm? The answer has the same three fields whatever the outcome,
// so its shape says nothing: the matched person's own id and loyalty card on a match, a step-up
// token when the policy asks for the phone digits, null otherwise. A node without flows has no
// step-up challenges (and no phones): the grey zone is no match there.
import { Effect } from "effect";
import { wipePalmProbe } from "../../../core/palm-template.ts";
import { openSealedSignature, type IdentifyResult } from "../../../protocol/index.ts";
import type { DeviceRequestContext, DeviceRequestHandlers } from "./device-request.ts";

type IdentifyAnswer = Omit<IdentifyResult, "type" | "requestId">;

const identifyOutcome = async (sealed: Uint8Array, stepUpToken: string | undefined, { deviceId, deps }: DeviceRequestContext): Promise<IdentifyAnswer> => {
  const none = { identityId: null, stepUpToken: null, loyaltyCard: null };
  const matched = (identityId: string): IdentifyAnswer => ({
    ...none,
    outcome: "match",
    identityId,
    loyaltyCard: (deps.flows === undefined ? undefined : Effect.runSync(deps.flows.registry.readProfile(identityId)).loyaltyCard) ?? null,
  });
  if (stepUpToken !== undefined) {
    const identityId = deps.flows?.stepUps.redeem(deviceId, stepUpToken, "identify");
    return identityId === undefined ? { ...none, outcome: "no-match" } : matched(identityId);
  }
  const probe = await openSealedSignature(sealed, deps.templateKeys);
  const decision = await deps.identifier.identify(probe).finally(() => wipePalmProbe(probe));
  if (decision.outcome === "match") return matched(decision.identityId);
  if (decision.outcome === "step-up" && deps.flows !== undefined) {
    return { ...none, outcome: "step-up-required", stepUpToken: deps.flows.stepUps.open(deviceId, "identify", decision.stepUp) };
  }
  return { ...none, outcome: "no-match" };
};

export const identificationHandlers: DeviceRequestHandlers = {
  "identify.request": async (request, context) => {
    const answer = await identifyOutcome(request.sealedSignature, request.stepUpToken, context);
    context.reply({ type: "identify.result", requestId: request.requestId, ...answer });
  },
};
