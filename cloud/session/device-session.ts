// One device's session on the region: decrypted messages in, decisions out. Every request gets
// exactly one answer; a bad request gets a typed error answer and the session carries on, while
// the node keeps serving everyone else.
import { createActor } from "xstate";
import { AlreadyEnrolled, InvalidSignature } from "../../core/errors.ts";
import type { DeviceId } from "../../core/ids.ts";
import type { PalmSignature } from "../../core/palm-signature.ts";
import {
  CloseCode,
  openSealedSignature,
  type PeerAdmission,
  type SecureChannel,
  type TemplateKeyPair,
  type WireMessage,
} from "../../protocol/index.ts";
import type { PalmIdentifier } from "../identification/palm-identifier.ts";
import type { DeviceDirectory } from "../registry/device-directory.ts";
import { ProvisioningRefused } from "../registry/device-directory.ts";
import { deviceSessionMachine } from "./device-session-machine.ts";

export interface DeviceSessionDependencies {
  readonly identifier: PalmIdentifier;
  readonly devices: DeviceDirectory;
  readonly templateKeys: TemplateKeyPair;
  readonly now: () => number;
  readonly log: (line: string) => void;
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
  const actor = createActor(deviceSessionMachine, {
    input: { peerKeyHex: Buffer.from(channel.peerPublicKey).toString("hex"), deviceId: admission.kind === "admit" ? deviceId : undefined },
  }).start();
  let currentDevice = admission.kind === "admit" ? deviceId : undefined;

  const ready = (id: DeviceId) =>
    channel.send({ type: "session.ready", deviceId: id, templatePublicKey: deps.templateKeys.publicKey, serverTime: deps.now() });
  if (currentDevice !== undefined) ready(currentDevice);

  const openAll = (sealed: readonly Uint8Array[]): Promise<PalmSignature[]> =>
    Promise.all(sealed.map((s) => openSealedSignature(s, deps.templateKeys)));

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
    switch (message.type) {
      case "identify.request": {
        const [probe] = await openAll([message.sealedSignature]);
        const decision = deps.identifier.identify(probe!);
        channel.send({
          type: "identify.result",
          requestId: message.requestId,
          outcome: decision.outcome,
          ...(decision.outcome === "match" ? { identityId: decision.identityId } : {}),
          score: decision.score,
        });
        break;
      }
      case "enroll.request": {
        try {
          const captures = await openAll(message.sealedSignatures);
          const identityId = deps.identifier.enroll(captures);
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
      deps.log(`request from ${currentDevice ?? "unprovisioned device"} failed: ${code}: ${text}`);
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
