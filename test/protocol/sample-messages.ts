// One valid example of every message type, checked for completeness by the compiler: adding a
// type to the catalogue without a sample here fails typecheck.
import { SEALED_SIGNATURE_BYTES, type WireMessage, type WireMessageOf, type WireMessageType } from "../../protocol/index.ts";

const bytes = (length: number, fill: number) => new Uint8Array(length).fill(fill);
const sealed = (fill: number) => bytes(SEALED_SIGNATURE_BYTES, fill);

export const SAMPLE_MESSAGES: { readonly [T in WireMessageType]: WireMessageOf<T> } = {
  "provision.request": { type: "provision.request", requestId: "rq_1", oneTimeCode: "483920", deviceName: "kiosk 3, north entrance" },
  "provision.result": {
    type: "provision.result",
    requestId: "rq_1",
    outcome: "provisioned",
    deviceId: "dev_abc",
    templatePublicKey: bytes(32, 7),
  },
  "session.ready": { type: "session.ready", deviceId: "dev_abc", templatePublicKey: bytes(32, 9), serverTime: 1_767_225_600_000 },
  heartbeat: { type: "heartbeat", sentAt: 1_767_225_600_123 },
  "heartbeat.ack": { type: "heartbeat.ack", sentAt: 1_767_225_600_123 },
  error: { type: "error", requestId: "rq_2", code: "not-provisioned", message: "this device is not provisioned" },
  "identify.request": { type: "identify.request", requestId: "rq_3", sealedSignature: sealed(1) },
  "identify.result": { type: "identify.result", requestId: "rq_3", outcome: "match", identityId: "id_xyz", score: 0.91 },
  "enroll.request": {
    type: "enroll.request",
    requestId: "rq_4",
    sealedSignatures: [sealed(2), sealed(3), sealed(4)],
    phone: { number: "+4915112345678", verificationCode: "123456" },
    card: { processorToken: "tok_visa_4242", brand: "visa", last4: "4242", expiryMonth: 12, expiryYear: 2030 },
  },
  "enroll.result": { type: "enroll.result", requestId: "rq_4", outcome: "already-enrolled", identityId: "id_xyz", reason: "palm already enrolled" },
  "phone.verify.request": { type: "phone.verify.request", requestId: "rq_40", number: "+4915112345678" },
  "phone.verify.result": { type: "phone.verify.result", requestId: "rq_40", outcome: "sent" },
  "payment.authorize.request": {
    type: "payment.authorize.request",
    requestId: "rq_5",
    idempotencyKey: "pos-17-000042",
    merchantId: "m_corner_store",
    amount: { amountMinor: 1299, currency: "EUR" },
    sealedSignature: sealed(5),
  },
  "payment.authorize.result": {
    type: "payment.authorize.result",
    requestId: "rq_5",
    outcome: "approved",
    authorizationId: "auth_1",
    identityId: "id_xyz",
    cardBrand: "visa",
    cardLast4: "4242",
  },
  "payment.settle.request": {
    type: "payment.settle.request",
    requestId: "rq_6",
    authorizationId: "auth_1",
    action: "capture",
    amount: { amountMinor: 1199, currency: "EUR" },
  },
  "payment.settle.result": { type: "payment.settle.result", requestId: "rq_6", authorizationId: "auth_1", outcome: "captured" },
  "payment.credential.request": {
    type: "payment.credential.request",
    requestId: "rq_7",
    merchantId: "m_partner",
    merchantNonce: bytes(16, 0xaa),
    sealedSignature: sealed(6),
  },
  "payment.credential.result": {
    type: "payment.credential.result",
    requestId: "rq_7",
    outcome: "issued",
    credential: { token: bytes(96, 0x42), merchantId: "m_partner", expiresAt: 1_767_225_660_000 },
  },
  "gate.entry.request": { type: "gate.entry.request", requestId: "rq_8", venueId: "stadium-1", gateId: "g-12", sealedSignature: sealed(7) },
  "gate.entry.result": {
    type: "gate.entry.result",
    requestId: "rq_8",
    outcome: "open",
    identityId: "id_xyz",
    entitlement: { kind: "ticket", label: "Block C, row 4", validUntil: 1_767_300_000_000 },
    openForMs: 4000,
  },
  "gate.passage": { type: "gate.passage", requestId: "rq_8", gateId: "g-12", passed: true, at: 1_767_225_601_000 },
  "deletion.request": { type: "deletion.request", requestId: "rq_9", sealedSignature: sealed(8), confirmed: true },
  "deletion.result": { type: "deletion.result", requestId: "rq_9", outcome: "pending", identityId: "id_xyz", openTransactions: 1 },
  "expiry.notice": {
    type: "expiry.notice",
    identityId: "id_old",
    origin: "eu-central",
    stage: "expired",
    lastSeenAt: 1_704_067_200_000,
    expiresAt: 1_767_225_600_000,
  },
  "replication.hello": {
    type: "replication.hello",
    regionId: "eu-central",
    watermarks: [{ origin: "us-east", upTo: { wallMs: 1_767_225_600_000, logical: 3, nodeId: "us-east" } }],
  },
  "replication.delta": {
    type: "replication.delta",
    batchId: "b_1",
    origin: "eu-central",
    records: [
      { identityId: "id_xyz", stamp: { wallMs: 1_767_225_600_001, logical: 0, nodeId: "eu-central" }, kind: "upsert", fields: bytes(200, 3) },
      { identityId: "id_old", stamp: { wallMs: 1_767_225_600_002, logical: 0, nodeId: "eu-central" }, kind: "tombstone" },
      { identityId: "id_abc", stamp: { wallMs: 1_767_225_600_003, logical: 1, nodeId: "eu-central" }, kind: "seen", lastSeenAt: 1_767_225_600_003 },
    ],
    upTo: { wallMs: 1_767_225_600_003, logical: 1, nodeId: "eu-central" },
  },
  "replication.ack": {
    type: "replication.ack",
    batchId: "b_1",
    origin: "eu-central",
    upTo: { wallMs: 1_767_225_600_003, logical: 1, nodeId: "eu-central" },
  },
  "replication.digest": {
    type: "replication.digest",
    requestId: "rq_10",
    origin: "eu-central",
    buckets: [{ bucket: 0, digest: bytes(32, 0x11), count: 4 }],
  },
};

export const ALL_SAMPLES: readonly WireMessage[] = Object.values(SAMPLE_MESSAGES);
