// One valid example of every message type, checked for completeness by the compiler: adding a
// type to the catalogue without a sample here fails typecheck.
import { SEALED_SIGNATURE_MAX_BYTES, type WireMessage, type WireMessageOf, type WireMessageType } from "../../protocol/index.ts";

const bytes = (length: number, fill: number) => new Uint8Array(length).fill(fill);
const sealed = (fill: number) => bytes(SEALED_SIGNATURE_MAX_BYTES, fill);

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
  error: { type: "error", requestId: "rq_2", code: "NotProvisioned", message: "this device is not provisioned" },
  "identify.request": { type: "identify.request", requestId: "rq_3", sealedSignature: sealed(1) },
  "identify.result": { type: "identify.result", requestId: "rq_3", outcome: "match", identityId: "id_xyz", stepUpToken: null, loyaltyCard: null },
  "stepup.digits.request": { type: "stepup.digits.request", requestId: "rq_3s", stepUpToken: "AAAAAAAAAAAAAAAAAAAAAA", digits: "0501" },
  "stepup.digits.result": { type: "stepup.digits.result", requestId: "rq_3s", outcome: "retry", attemptsLeft: 2 },
  "capture.challenge.request": { type: "capture.challenge.request", requestId: "rq_3c" },
  "capture.challenge.result": { type: "capture.challenge.result", requestId: "rq_3c", challenge: bytes(16, 5), expiresAt: 1_767_225_900_000 },
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
    credential: { token: bytes(96, 0x42), merchantId: "m_partner", merchantNonce: bytes(16, 0xaa), expiresAt: 1_767_225_660_000 },
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
  "replication.hello": { type: "replication.hello", regionId: "eu-central", appliedSeq: 1_204 },
  "replication.changes": {
    type: "replication.changes",
    batchId: "b_1",
    records: [
      {
        identityId: "id_xyz",
        originRegion: "eu-central",
        created: { wallMs: 1_767_225_600_001, counter: 0, nodeId: "eu-central" },
        lastSeenMs: 1_767_225_700_000,
        sealedDataKey: bytes(80, 0x42),
        fields: [
          { name: "palm_template", stamp: { wallMs: 1_767_225_600_001, counter: 0, nodeId: "eu-central" }, value: bytes(200, 3), signature: bytes(64, 5) },
          { name: "loyalty_card", stamp: { wallMs: 1_767_225_600_900, counter: 2, nodeId: "us-east" }, value: null, signature: bytes(64, 6) },
        ],
      },
      {
        identityId: "id_old",
        originRegion: "us-east",
        created: { wallMs: 1_704_067_200_000, counter: 0, nodeId: "us-east" },
        lastSeenMs: 1_704_067_200_000,
        tombstone: { wallMs: 1_767_225_600_002, counter: 1, nodeId: "eu-central" },
        tombstoneReason: "requested",
        tombstoneSignature: bytes(64, 7),
        fields: [],
      },
    ],
    upToSeq: 1_310,
    more: false,
  },
  "replication.ack": { type: "replication.ack", upToSeq: 1_310 },
  "replication.digest": {
    type: "replication.digest",
    requestId: "rq_10",
    feedSeq: 1_310,
    buckets: [
      { bucket: 0, digest: bytes(32, 0x11), count: 4 },
      { bucket: 255, digest: bytes(32, 0x12), count: 1 },
    ],
  },
  "replication.repair": {
    type: "replication.repair",
    requestId: "rq_10",
    records: [
      {
        identityId: "id_abc",
        originRegion: "us-east",
        created: { wallMs: 1_767_225_600_003, counter: 0, nodeId: "us-east" },
        lastSeenMs: 1_767_225_600_003,
        sealedDataKey: bytes(80, 0x43),
        fields: [{ name: "palm_template", stamp: { wallMs: 1_767_225_600_003, counter: 0, nodeId: "us-east" }, value: bytes(64, 9), signature: bytes(64, 8) }],
      },
    ],
    wanted: [0, 17],
    more: false,
  },
};

export const ALL_SAMPLES: readonly WireMessage[] = Object.values(SAMPLE_MESSAGES);
