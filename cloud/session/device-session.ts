// One device's session on the region: decrypted messages in, decisions out. Every request gets
// exactly one answer; a bad request gets a typed error answer and the session carries on, while
// the node keeps serving everyone else. Devices learn outcomes only: identify.result carries the
// matched person's own id (and loyalty card) on a match, a step-up token when the policy asks
// for the phone digits, and nothing else; never a score, never a candidate. Every
// identification-bearing request first passes the device's probe guard, and each no-match,
// step-up or refused digits counts against it (probe-guard.ts).
import { Data } from "effect";
import { createActor } from "xstate";
import { AlreadyEnrolled, InvalidSignature } from "../../core/errors.ts";
import type { DeviceId } from "../../core/ids.ts";
import { wipePalmProbe } from "../../core/palm-template.ts";
import {
  CloseCode,
  openSealedSignature,
  openSealedSignatures,
  type PeerAdmission,
  type SecureChannel,
  type TemplateKeyPair,
  type WireMessage,
} from "../../protocol/index.ts";
import type { PalmIdentifier } from "../identification/palm-identifier.ts";
import type { DeviceDirectory } from "../storage/sqlite/device-directory.ts";
import { ProvisioningRefused } from "../storage/sqlite/device-directory.ts";
import type { InspectHook } from "../sagas/saga-actor-options.ts";
import { deviceSessionMachine } from "./device-session-machine.ts";
import type { RegionFlows } from "./region-flows.ts";
import { ProbingLimited } from "./probe-guard.ts";

/** Answers that tell a prober something failed: they count against the device's probe guard. */
const FAILED_OUTCOMES: ReadonlySet<string> = new Set(["no-match", "step-up-required", "retry", "refused"]);

export interface DeviceSessionDependencies {
  readonly identifier: PalmIdentifier;
  readonly devices: DeviceDirectory;
  readonly templateKeys: TemplateKeyPair;
  readonly now: () => number;
  readonly log: (line: string) => void;
  /** Enrollment with card and phone, payments, gates, deletion; absent in a bare identifier node. */
  readonly flows?: RegionFlows;
  /** The inspector's hook for session actors, when one is attached. */
  readonly inspectSessions?: InspectHook;
}

export class FlowUnavailable extends Data.TaggedError("FlowUnavailable")<{ readonly reason: string }> {
  override get message() {
    return this.reason;
  }
}

const describe = (error: unknown): { code: string; message: string } =>
  error instanceof Error && "_tag" in error && typeof error._tag === "string"
    ? { code: error._tag, message: error.message }
    : { code: "InternalError", message: "the region could not handle this request" };

export const runDeviceSession = (
  channel: SecureChannel,
  admission: PeerAdmission,
  deviceId: DeviceId | undefined,
  deps: DeviceSessionDependencies,
) => {
  const peerKeyHex = Buffer.from(channel.peerPublicKey).toString("hex");
  const actor = createActor(deviceSessionMachine, {
    input: { peerKeyHex, deviceId: admission.kind === "admit" ? deviceId : undefined },
    systemId: `session:${deviceId ?? `new-device-${peerKeyHex.slice(0, 8)}`}`,
    ...(deps.inspectSessions !== undefined ? { inspect: deps.inspectSessions } : {}),
  }).start();
  let currentDevice = admission.kind === "admit" ? deviceId : undefined;

  const ready = (id: DeviceId) =>
    channel.send({ type: "session.ready", deviceId: id, templatePublicKey: deps.templateKeys.publicKey, serverTime: deps.now() });
  if (currentDevice !== undefined) ready(currentDevice);

  /** The same three fields whatever the outcome, so the answer's shape says nothing. */
  const identifyOutcome = async (
    sealed: Uint8Array,
    stepUpToken: string | undefined,
  ): Promise<{ outcome: "match" | "no-match" | "step-up-required"; identityId: string | null; stepUpToken: string | null; loyaltyCard: string | null }> => {
    const none = { identityId: null, stepUpToken: null, loyaltyCard: null };
    const matched = (identityId: string) => ({ ...none, outcome: "match" as const, identityId, loyaltyCard: deps.flows?.profiles.read(identityId).loyaltyCard ?? null });
    if (stepUpToken !== undefined) {
      const identityId = deps.flows?.stepUps.redeem(currentDevice!, stepUpToken, "identify");
      return identityId === undefined ? { ...none, outcome: "no-match" } : matched(identityId);
    }
    const probe = await openSealedSignature(sealed, deps.templateKeys);
    const decision = await deps.identifier.identify(probe).finally(() => wipePalmProbe(probe));
    if (decision.outcome === "match") return matched(decision.identityId);
    // A node without flows has no step-up desk (and no phones): the grey zone is no match there.
    if (decision.outcome === "step-up" && deps.flows !== undefined) {
      return { ...none, outcome: "step-up-required", stepUpToken: deps.flows.stepUps.open(currentDevice!, "identify", decision.stepUp) };
    }
    return { ...none, outcome: "no-match" };
  };

  const requireFlows = (): RegionFlows => {
    if (deps.flows === undefined) throw new FlowUnavailable({ reason: "this region node does not run checkout, gate or deletion flows" });
    return deps.flows;
  };

  const handle = async (message: WireMessage): Promise<void> => {
    const state = actor.getSnapshot().value;
    if (state === "provisioning") {
      if (message.type !== "provision.request") {
        channel.send({ type: "error", code: "NotProvisioned", message: "this device must be provisioned before it can make requests" });
        return;
      }
      try {
        const id = deps.devices.provision(channel.peerPublicKey, message.deviceName, message.oneTimeCode, deps.now());
        currentDevice = id;
        actor.send({ type: "PROVISIONED", deviceId: id });
        deps.log(`device ${id} provisioned as "${message.deviceName}"`);
        channel.send({ type: "provision.result", requestId: message.requestId, outcome: "provisioned", deviceId: id, templatePublicKey: deps.templateKeys.publicKey });
        ready(id);
      } catch (error) {
        const reason = error instanceof ProvisioningRefused ? error.reason : "provisioning failed";
        channel.send({ type: "provision.result", requestId: message.requestId, outcome: "refused", reason });
      }
      return;
    }
    const probes = deps.flows?.probes;
    const counted = (outcome: string) => {
      if (FAILED_OUTCOMES.has(outcome)) probes?.recordFailure(currentDevice!);
    };
    if (["identify.request", "payment.authorize.request", "payment.credential.request", "gate.entry.request", "stepup.digits.request"].includes(message.type)) {
      probes?.check(currentDevice!);
    }
    switch (message.type) {
      case "identify.request": {
        const answer = await identifyOutcome(message.sealedSignature, message.stepUpToken);
        counted(answer.outcome);
        channel.send({ type: "identify.result", requestId: message.requestId, ...answer });
        break;
      }
      case "stepup.digits.request": {
        const answer = requireFlows().stepUps.submitDigits(currentDevice!, message.stepUpToken, message.digits);
        counted(answer.outcome);
        channel.send({ type: "stepup.digits.result", requestId: message.requestId, ...answer });
        break;
      }
      case "enroll.request": {
        if (deps.flows !== undefined) {
          const result = await deps.flows.enrollment.enroll(message);
          if (result.outcome === "enrolled") deps.log(`enrolled ${result.identityId} from device ${currentDevice}`);
          channel.send({ type: "enroll.result", requestId: message.requestId, ...result });
          break;
        }
        try {
          const captures = await openSealedSignatures(message.sealedSignatures, deps.templateKeys);
          const identityId = await deps.identifier.enroll(captures).finally(() => captures.forEach(wipePalmProbe));
          deps.log(`enrolled ${identityId} from device ${currentDevice}`);
          channel.send({ type: "enroll.result", requestId: message.requestId, outcome: "enrolled", identityId });
        } catch (error) {
          if (error instanceof AlreadyEnrolled) {
            channel.send({ type: "enroll.result", requestId: message.requestId, outcome: "already-enrolled", reason: "this palm is already enrolled" });
          } else if (error instanceof InvalidSignature) {
            channel.send({ type: "enroll.result", requestId: message.requestId, outcome: "rejected", reason: error.reason });
          } else throw error;
        }
        break;
      }
      case "phone.verify.request": {
        const flows = requireFlows();
        await flows.phones.sendCode(message.number);
        channel.send({ type: "phone.verify.result", requestId: message.requestId, outcome: "sent" });
        break;
      }
      case "payment.authorize.request": {
        const result = await requireFlows().payments.authorize(currentDevice!, message);
        counted(result.outcome);
        channel.send({ type: "payment.authorize.result", requestId: message.requestId, ...result });
        break;
      }
      case "payment.settle.request": {
        const flows = requireFlows();
        const result = await flows.payments.settle(currentDevice!, message);
        channel.send({ type: "payment.settle.result", requestId: message.requestId, ...result });
        // A settled payment may be the last thing a pending deletion waited for.
        if (result.outcome !== "failed") await flows.deletions.settlePending();
        break;
      }
      case "payment.credential.request": {
        const result = await requireFlows().payments.credential(currentDevice!, message);
        counted(result.outcome);
        channel.send({ type: "payment.credential.result", requestId: message.requestId, ...result });
        break;
      }
      case "gate.entry.request": {
        const result = await requireFlows().gates.enter(currentDevice!, message);
        counted(result.outcome);
        channel.send({ type: "gate.entry.result", requestId: message.requestId, ...result });
        break;
      }
      case "gate.passage":
        requireFlows().gates.passage(currentDevice!, message);
        break;
      case "deletion.request": {
        const result = await requireFlows().deletions.request(message);
        channel.send({ type: "deletion.result", requestId: message.requestId, ...result });
        break;
      }
      case "heartbeat":
        channel.send({ type: "heartbeat.ack", sentAt: message.sentAt });
        return;
      default:
        channel.send({ type: "error", code: "UnexpectedMessage", message: `a region does not accept ${message.type}` });
        return;
    }
    actor.send({ type: "REQUEST_HANDLED" });
  };

  channel.onMessage((message) => {
    handle(message).catch((error: unknown) => {
      const { code, message: text } = describe(error);
      // The probe guard reports a limited device once itself; every refusal would flood the log.
      if (!(error instanceof ProbingLimited)) deps.log(`request from ${currentDevice ?? "unprovisioned device"} failed: ${code}: ${text}`);
      const requestId = "requestId" in message && typeof message.requestId === "string" ? message.requestId : undefined;
      channel.send({ type: "error", ...(requestId !== undefined ? { requestId } : {}), code, message: text });
    });
  });

  void channel.closed.then(({ reason }) => actor.send({ type: "CLOSED", reason }));

  return {
    actor,
    get deviceId() {
      return currentDevice;
    },
    revoke: () => channel.close(CloseCode.DeviceRevoked, "device revoked"),
  };
};

export type DeviceSession = ReturnType<typeof runDeviceSession>;
