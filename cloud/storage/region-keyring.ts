// The region's long-lived secrets, kept in <data>/keys/region-keys.json (mode 0600):
// - identity: Ed25519, authenticates the region in every secure-channel handshake; devices pin
//   its public key;
// - template: X25519, devices seal palm signatures to it (crypto_box_seal);
// - storage: symmetric key that wraps each identity's data key at rest.
// Created on first start, reused afterwards; a node restarted over the same data dir keeps its
// identity, so its devices' pins stay valid.
import { existsSync, mkdirSync, readFileSync, renameSync, statSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { Data } from "effect";
import { generateIdentityKeyPair, generateTemplateKeyPair, type IdentityKeyPair, type TemplateKeyPair } from "../../protocol/index.ts";
import { loadSodium } from "../../protocol/sodium.ts";

export interface RegionKeyring {
  readonly identity: IdentityKeyPair;
  readonly template: TemplateKeyPair;
  readonly storageKey: Uint8Array;
}

export class KeyringUnreadable extends Data.TaggedError("KeyringUnreadable")<{ readonly path: string; readonly reason: string }> {
  override get message() {
    return `region keys at ${this.path} are unreadable: ${this.reason}`;
  }
}

/**
 * Like ssh with a private key: a key file another user could have read is refused, not used.
 * Every key file of the region is checked here when it is loaded.
 */
export const exposedKeyFile = (path: string): KeyringUnreadable | undefined => {
  const mode = statSync(path).mode & 0o777;
  if ((mode & 0o077) === 0) return undefined;
  return new KeyringUnreadable({
    path,
    reason: `its mode ${mode.toString(8).padStart(4, "0")} lets other users read it (chmod 600 ${path}, and rotate the keys if anyone may have)`,
  });
};

const b64 = (bytes: Uint8Array) => Buffer.from(bytes).toString("base64");
const unb64 = (text: unknown, path: string, field: string): Uint8Array => {
  if (typeof text !== "string") throw new KeyringUnreadable({ path, reason: `${field} is missing` });
  return new Uint8Array(Buffer.from(text, "base64"));
};

export const loadOrCreateRegionKeyring = async (dataDir: string): Promise<RegionKeyring> => {
  const dir = join(dataDir, "keys");
  const path = join(dir, "region-keys.json");
  if (existsSync(path)) {
    const exposed = exposedKeyFile(path);
    if (exposed !== undefined) throw exposed;
    let parsed: Record<string, unknown>;
    try {
      parsed = JSON.parse(readFileSync(path, "utf8")) as Record<string, unknown>;
    } catch (cause) {
      throw new KeyringUnreadable({ path, reason: String(cause) });
    }
    return {
      identity: {
        publicKey: unb64(parsed.identityPublicKey, path, "identityPublicKey"),
        secretKey: unb64(parsed.identitySecretKey, path, "identitySecretKey"),
      },
      template: {
        publicKey: unb64(parsed.templatePublicKey, path, "templatePublicKey"),
        secretKey: unb64(parsed.templateSecretKey, path, "templateSecretKey"),
      },
      storageKey: unb64(parsed.storageKey, path, "storageKey"),
    };
  }
  const sodium = await loadSodium();
  const keyring: RegionKeyring = {
    identity: await generateIdentityKeyPair(),
    template: await generateTemplateKeyPair(),
    storageKey: sodium.crypto_aead_xchacha20poly1305_ietf_keygen(),
  };
  mkdirSync(dir, { recursive: true, mode: 0o700 });
  const body = JSON.stringify({
    identityPublicKey: b64(keyring.identity.publicKey),
    identitySecretKey: b64(keyring.identity.secretKey),
    templatePublicKey: b64(keyring.template.publicKey),
    templateSecretKey: b64(keyring.template.secretKey),
    storageKey: b64(keyring.storageKey),
  });
  // Write-then-rename: a crash never leaves a half-written key file behind.
  writeFileSync(`${path}.tmp`, body, { mode: 0o600 });
  renameSync(`${path}.tmp`, path);
  return keyring;
};
