// The federation key: 32 random bytes shared by the regions of one federation, kept base64 in a
// file readable by its owner only. It never travels; a region proves it holds the key with an
// HMAC over both ends' identity keys, so a proof is bound to one link and cannot be replayed on
// another, and only members learn anything about each other's registries.
import { createHmac, randomBytes, timingSafeEqual } from "node:crypto";
import { closeSync, openSync, readFileSync, statSync, writeSync } from "node:fs";
import { Data } from "effect";

export const FEDERATION_KEY_BYTES = 32;
const PROOF_LABEL = "palmline region link v1";

export class FederationKeyUnreadable extends Data.TaggedError("FederationKeyUnreadable")<{ readonly path: string; readonly reason: string }> {
  override get message() {
    return `federation key ${this.path}: ${this.reason}`;
  }
}

export class FederationKeyExists extends Data.TaggedError("FederationKeyExists")<{ readonly path: string }> {
  override get message() {
    return `${this.path} already exists; refusing to overwrite a federation key`;
  }
}

/** Writes a new key to `path` (mode 0600); never replaces an existing file. */
export const createFederationKeyFile = (path: string): void => {
  let fd: number;
  try {
    fd = openSync(path, "wx", 0o600);
  } catch (cause) {
    if ((cause as NodeJS.ErrnoException).code === "EEXIST") throw new FederationKeyExists({ path });
    throw new FederationKeyUnreadable({ path, reason: (cause as Error).message });
  }
  const key = randomBytes(FEDERATION_KEY_BYTES);
  try {
    writeSync(fd, `${key.toString("base64")}\n`);
  } finally {
    key.fill(0);
    closeSync(fd);
  }
};

/** Reads a key file; refuses one that others can read, like ssh does with private keys. */
export const loadFederationKey = (path: string): Uint8Array => {
  let text: string;
  let mode: number;
  try {
    mode = statSync(path).mode;
    text = readFileSync(path, "utf8").trim();
  } catch (cause) {
    throw new FederationKeyUnreadable({ path, reason: (cause as NodeJS.ErrnoException).code === "ENOENT" ? "no such file" : (cause as Error).message });
  }
  if ((mode & 0o077) !== 0) throw new FederationKeyUnreadable({ path, reason: `mode ${(mode & 0o777).toString(8)} lets others read it (chmod 600)` });
  const key = new Uint8Array(Buffer.from(text, "base64"));
  if (key.byteLength !== FEDERATION_KEY_BYTES || Buffer.from(key).toString("base64") !== text) {
    throw new FederationKeyUnreadable({ path, reason: `not ${FEDERATION_KEY_BYTES} bytes of base64 (create one with: palmline federation-key --out FILE)` });
  }
  return key;
};

export type LinkRole = "initiator" | "responder";

export interface ProofContext {
  readonly initiatorKey: Uint8Array;
  readonly responderKey: Uint8Array;
  /** The role of the region that sends the proof. */
  readonly role: LinkRole;
  /** The region id the sender claims. */
  readonly regionId: string;
}

// Each part length-prefixed, so no two different contexts give the same bytes.
const proofInput = (context: ProofContext): Buffer => {
  const parts = [Buffer.from(PROOF_LABEL), context.initiatorKey, context.responderKey, Buffer.from(context.role), Buffer.from(context.regionId, "utf8")];
  return Buffer.concat(
    parts.flatMap((part) => {
      const length = Buffer.alloc(2);
      length.writeUInt16BE(part.byteLength);
      return [length, Buffer.from(part)];
    }),
  );
};

export const federationProof = (key: Uint8Array, context: ProofContext): Uint8Array =>
  new Uint8Array(createHmac("sha256", key).update(proofInput(context)).digest());

export const verifyFederationProof = (key: Uint8Array, context: ProofContext, proof: Uint8Array): boolean => {
  const expected = federationProof(key, context);
  return proof.byteLength === expected.byteLength && timingSafeEqual(proof, expected);
};
