// One device's session on the region: decrypted messages in, decisions out. Every request gets
// exactly one answer; a bad request gets a typed error answer and the session carries on, while
// the node keeps serving everyone else. The session owns only three things: dispatch to the
// handler of each message family (handlers/), the probe guard, and turning a failure into a wire
// error (wire-error.ts). Devices learn outcomes only, never a score or a candidate. Every
// identification-bearing request first passes the device's probe guard, and each no-match,
// step-up or refused digits counts against it (probe-guard.ts). Every request is checked against
// the device's binding (device-permissions.ts) before anything else, and a request carrying palm
// captures must have them sealed to a challenge this session issued (capture-challenges.ts).
import { createActor } from "xstate";
import type { DeviceId } from "../../core/ids.ts";
import { CloseCode, type PeerAdmission, type SecureChannel, type WireErrorCode, type WireMessage, type WireMessageType } from "../../protocol/index.ts";
import type { DeviceBinding } from "../storage/device-binding.ts";
import { deviceSessionMachine } from "./device-session-machine.ts";
import { checkPermitted } from "./device-permissions.ts";
import { CaptureChallenges, capturesOf } from "./capture-challenges.ts";
import type { DeviceSessionDependencies } from "./device-session-dependencies.ts";
import { deletionHandlers } from "./handlers/deletion.ts";
import type { DeviceRequestContext, DeviceRequestHandler, DeviceRequestHandlers } from "./handlers/device-request.ts";
import { enrollmentHandlers } from "./handlers/enrollment.ts";
import { gateHandlers } from "./handlers/gate.ts";
import { captureChallengeHandlers } from "./handlers/capture-challenge.ts";
import { heartbeatHandlers } from "./handlers/heartbeat.ts";
import { identificationHandlers } from "./handlers/identification.ts";
import { paymentHandlers } from "./handlers/payment.ts";
import { phoneVerificationHandlers } from "./handlers/phone-verification.ts";
import { provisionDevice } from "./handlers/provisioning.ts";
import { stepUpHandlers } from "./handlers/step-up.ts";
import { DeviceNotProvisioned, FlowUnavailable, NotADeviceRequest } from "./session-failures.ts";
import { toWireError } from "./wire-error.ts";

export type { DeviceSessionDependencies } from "./device-session-dependencies.ts";

const HANDLERS: DeviceRequestHandlers = {
  ...identificationHandlers,
  ...stepUpHandlers,
  ...enrollmentHandlers,
  ...phoneVerificationHandlers,
  ...paymentHandlers,
  ...gateHandlers,
  ...deletionHandlers,
  ...heartbeatHandlers,
  ...captureChallengeHandlers,
};

/** Requests that may search the registry for a palm: the probe guard checks them first, and counts their failures. */
const PROBING_REQUESTS: ReadonlySet<WireMessageType> = new Set([
  "identify.request",
  "payment.authorize.request",
  "payment.credential.request",
  "gate.entry.request",
  "stepup.digits.request",
]);

/** Answers that tell a prober something failed: they count against the device's probe guard. */
const FAILED_OUTCOMES: ReadonlySet<string> = new Set(["no-match", "step-up-required", "retry", "refused"]);

/** Answered without a log line: the device's own mistakes, and the probe guard logs a limited device once itself. */
const UNLOGGED: ReadonlySet<WireErrorCode> = new Set(["NotProvisioned", "UnexpectedMessage", "ProbingLimited"]);

/** Who is at the other end: the provisioned device (absent for a key the region does not know yet) and the address it connected from. */
export interface DevicePeer {
  readonly device: { readonly deviceId: DeviceId; readonly binding: DeviceBinding } | undefined;
  readonly sourceAddress: string;
}

export const runDeviceSession = (channel: SecureChannel, admission: PeerAdmission, peer: DevicePeer, deps: DeviceSessionDependencies) => {
  const deviceId = peer.device?.deviceId;
  const peerKeyHex = Buffer.from(channel.peerPublicKey).toString("hex");
  const actor = createActor(deviceSessionMachine, {
    input: { peerKeyHex, deviceId: admission.kind === "admit" ? deviceId : undefined },
    systemId: `session:${deviceId ?? `new-device-${peerKeyHex.slice(0, 8)}`}`,
    ...(deps.inspectSessions !== undefined ? { inspect: deps.inspectSessions } : {}),
  }).start();
  let currentDevice = admission.kind === "admit" ? deviceId : undefined;
  let binding: DeviceBinding = peer.device?.binding ?? { roles: [] };
  const challenges = new CaptureChallenges({ now: deps.now, keys: deps.templateKeys });

  const ready = (id: DeviceId) => channel.send({ type: "session.ready", deviceId: id, templatePublicKey: deps.templateKeys.publicKey, serverTime: deps.now() });
  if (currentDevice !== undefined) ready(currentDevice);

  const flows = () => {
    if (deps.flows === undefined) throw new FlowUnavailable({ reason: "this region node does not run enrollment, checkout, gate or deletion flows" });
    return deps.flows;
  };

  const handle = async (message: WireMessage): Promise<void> => {
    if (actor.getSnapshot().value === "provisioning") {
      if (message.type !== "provision.request") throw new DeviceNotProvisioned({ received: message.type });
      const id = provisionDevice(message, channel.peerPublicKey, deps, (answer) => channel.send(answer));
      if (id !== undefined) {
        const standing = deps.devices.standing(channel.peerPublicKey);
        binding = standing.kind === "active" ? standing.binding : { roles: [] };
        currentDevice = id;
        actor.send({ type: "PROVISIONED", deviceId: id });
        ready(id);
      }
      return;
    }
    const handler = HANDLERS[message.type] as DeviceRequestHandler<typeof message.type> | undefined;
    if (handler === undefined) throw new NotADeviceRequest({ received: message.type });
    const device = currentDevice!;
    checkPermitted(binding, message);
    // A retried payment is found by its key and goes with its first capture, made for this device.
    const retriedPayment = message.type === "payment.authorize.request" && deps.flows?.payments.hasAttempt(device, message.idempotencyKey) === true;
    if (retriedPayment) await challenges.admitRetry(capturesOf(message), device);
    else await challenges.admit(capturesOf(message));
    const probing = PROBING_REQUESTS.has(message.type);
    if (probing) deps.flows?.probes.check(device);
    const context: DeviceRequestContext = {
      deviceId: device,
      sourceAddress: peer.sourceAddress,
      challenges,
      deps,
      flows,
      reply: (answer) => {
        if (probing && "outcome" in answer && FAILED_OUTCOMES.has(answer.outcome)) deps.flows?.probes.recordFailure(device);
        channel.send(answer);
      },
    };
    await handler(message as never, context);
    if (message.type !== "heartbeat") actor.send({ type: "REQUEST_HANDLED" });
  };

  channel.onMessage((message) => {
    handle(message).catch((error: unknown) => {
      const { code, message: text } = toWireError(error);
      if (!UNLOGGED.has(code)) {
        const detail = error instanceof Error ? `${"_tag" in error ? String(error._tag) : error.name}: ${error.message}` : String(error);
        deps.log(`request from ${currentDevice ?? "unprovisioned device"} failed: ${detail}`);
      }
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
