// Which scanners may talk to this region. A device is provisioned once with a one-time code that
// an operator issued, which names what the device is bound to (its roles, merchant and venue);
// afterwards its Ed25519 public key is its identity. Revocation takes effect
// at the next handshake and, through the node, on live sessions at once.
import { createHash, randomInt } from "node:crypto";
import type { DatabaseSync } from "node:sqlite";
import { Data } from "effect";
import { deviceIdFromPublicKey, type DeviceId } from "../../../core/ids.ts";
import { DEVICE_ROLES, type DeviceBinding, type DeviceRole } from "../device-binding.ts";

export const PROVISIONING_CODE_TTL_MS = 15 * 60_000;

export class ProvisioningRefused extends Data.TaggedError("ProvisioningRefused")<{ readonly reason: string }> {
  override get message() {
    return `provisioning refused: ${this.reason}`;
  }
}

export type DeviceStanding =
  | { readonly kind: "active"; readonly deviceId: DeviceId; readonly binding: DeviceBinding }
  | { readonly kind: "revoked"; readonly deviceId: DeviceId }
  | { readonly kind: "unknown" };

interface BindingColumns {
  roles: string;
  merchant_id: string | null;
  venue_id: string | null;
}

const bindingColumns = (b: DeviceBinding): BindingColumns => ({ roles: b.roles.join(","), merchant_id: b.merchantId ?? null, venue_id: b.venueId ?? null });

const bindingOf = (row: BindingColumns): DeviceBinding => ({
  // A role this build does not know (a newer node wrote it) grants nothing.
  roles: row.roles.split(",").filter((r): r is DeviceRole => (DEVICE_ROLES as readonly string[]).includes(r)),
  ...(row.merchant_id !== null ? { merchantId: row.merchant_id } : {}),
  ...(row.venue_id !== null ? { venueId: row.venue_id } : {}),
});

const hashCode = (code: string) => createHash("sha256").update(code.trim().toUpperCase()).digest("hex");

// Crockford-style alphabet: no I, L, O, U, so a code read aloud or typed on a keypad is unambiguous.
const CODE_ALPHABET = "0123456789ABCDEFGHJKMNPQRSTVWXYZ";

export class DeviceDirectory {
  readonly #db: DatabaseSync;

  constructor(db: DatabaseSync) {
    this.#db = db;
  }

  /** A new one-time code for a device bound as `binding` (checked by deviceBinding); only its hash is stored. */
  issueProvisioningCode(binding: DeviceBinding, nowMs: number): string {
    let code = "";
    for (let i = 0; i < 10; i++) code += CODE_ALPHABET[randomInt(CODE_ALPHABET.length)];
    const b = bindingColumns(binding);
    this.#db
      .prepare("INSERT INTO provisioning_codes (code_hash, expires_ms, roles, merchant_id, venue_id) VALUES (?, ?, ?, ?, ?)")
      .run(hashCode(code), nowMs + PROVISIONING_CODE_TTL_MS, b.roles, b.merchant_id, b.venue_id);
    return code;
  }

  /** Consumes the code and registers the device key, bound as the code says; refuses reused, expired or unknown codes. */
  provision(publicKey: Uint8Array, name: string, code: string, nowMs: number): DeviceId {
    const deviceId = deviceIdFromPublicKey(publicKey);
    this.#db.exec("BEGIN IMMEDIATE");
    try {
      const row = this.#db
        .prepare("SELECT expires_ms, used_ms, roles, merchant_id, venue_id FROM provisioning_codes WHERE code_hash = ?")
        .get(hashCode(code)) as ({ expires_ms: number; used_ms: number | null } & BindingColumns) | undefined;
      if (row === undefined) throw new ProvisioningRefused({ reason: "unknown code" });
      if (row.used_ms !== null) throw new ProvisioningRefused({ reason: "code already used" });
      if (row.expires_ms < nowMs) throw new ProvisioningRefused({ reason: "code expired" });
      const existing = this.standing(publicKey);
      if (existing.kind === "revoked") throw new ProvisioningRefused({ reason: "device key was revoked" });
      // An active key is admitted, never provisioning: only a key the region does not know gets here.
      if (existing.kind === "active") throw new ProvisioningRefused({ reason: "device key is already provisioned" });
      this.#db.prepare("UPDATE provisioning_codes SET used_ms = ? WHERE code_hash = ?").run(nowMs, hashCode(code));
      this.#db
        .prepare("INSERT INTO devices (device_id, public_key, name, provisioned_ms, roles, merchant_id, venue_id) VALUES (?, ?, ?, ?, ?, ?, ?)")
        .run(deviceId, publicKey, name.slice(0, 64), nowMs, row.roles, row.merchant_id, row.venue_id);
      this.#db.exec("COMMIT");
    } catch (error) {
      this.#db.exec("ROLLBACK");
      throw error;
    }
    return deviceId;
  }

  standing(publicKey: Uint8Array): DeviceStanding {
    const row = this.#db.prepare("SELECT device_id, revoked_ms, roles, merchant_id, venue_id FROM devices WHERE public_key = ?").get(publicKey) as
      | ({ device_id: string; revoked_ms: number | null } & BindingColumns)
      | undefined;
    if (row === undefined) return { kind: "unknown" };
    const deviceId = row.device_id as DeviceId;
    return row.revoked_ms === null ? { kind: "active", deviceId, binding: bindingOf(row) } : { kind: "revoked", deviceId };
  }

  revoke(deviceId: DeviceId, nowMs: number): boolean {
    const result = this.#db.prepare("UPDATE devices SET revoked_ms = ? WHERE device_id = ? AND revoked_ms IS NULL").run(nowMs, deviceId);
    return Number(result.changes) > 0;
  }
}
