// Crypto hot paths, libsodium-wrappers (WebAssembly, what the project uses through
// protocol/sodium.ts) against sodium-native (the same libsodium built natively) and, where
// node:crypto has the primitive, node:crypto. Issue #16 asks whether the native build is at least
// 3x faster on frame encryption, template decryption and key wrapping; this bench answers with
// the ratio per path. The libraries take turns in every round, so a busy machine slows them alike;
// each figure is the median of the rounds. Prints progress, then one JSON line.
import { createCipheriv, createDecipheriv, randomBytes } from "node:crypto";
import { createRequire } from "node:module";
import { PALM_PROBE_MAX_VARIANTS, PALM_TEMPLATE_MAX_BYTES } from "../../core/palm-template.ts";
import { loadSodium } from "../../protocol/sodium.ts";

export interface CryptoBenchOptions {
  readonly rounds: number;
  readonly roundMs: number;
  readonly log?: (line: string) => void;
}

/** The decision rule of issue #16: switch only if native wins by this much on every path. */
export const SWITCH_RATIO = 3;

// sodium-native's calls take output buffers first; only what this bench calls is typed here.
interface SodiumNative {
  crypto_aead_xchacha20poly1305_ietf_encrypt(out: Buffer, m: Buffer, ad: Buffer | null, nsec: null, npub: Buffer, k: Buffer): number;
  crypto_aead_xchacha20poly1305_ietf_decrypt(out: Buffer, nsec: null, c: Buffer, ad: Buffer | null, npub: Buffer, k: Buffer): number;
  crypto_box_seal(out: Buffer, m: Buffer, pk: Buffer): void;
  crypto_box_seal_open(out: Buffer, c: Buffer, pk: Buffer, sk: Buffer): boolean;
  crypto_sign_detached(sig: Buffer, m: Buffer, sk: Buffer): void;
  crypto_sign_verify_detached(sig: Buffer, m: Buffer, pk: Buffer): boolean;
}

const loadSodiumNative = (): SodiumNative | undefined => {
  try {
    return createRequire(import.meta.url)("sodium-native") as SodiumNative;
  } catch {
    return undefined;
  }
};

/** Microseconds per call of `body`, over about `ms` milliseconds. */
const microsPerCall = (ms: number, body: () => void): number => {
  let calls = 0;
  const start = performance.now();
  let elapsed = 0;
  while (elapsed < ms) {
    for (let i = 0; i < 64; i++) body();
    calls += 64;
    elapsed = performance.now() - start;
  }
  return (elapsed * 1000) / calls;
};

const median = (values: readonly number[]): number => {
  const sorted = [...values].sort((a, b) => a - b);
  const mid = sorted.length >> 1;
  return sorted.length % 2 === 1 ? sorted[mid]! : (sorted[mid - 1]! + sorted[mid]!) / 2;
};

type Library = "wasm" | "native" | "node";
type Path = Partial<Record<Library, () => void>>;

export async function runCryptoBench(options: CryptoBenchOptions): Promise<Record<string, unknown>> {
  const log = options.log ?? ((line: string) => console.error(line));
  const wasm = await loadSodium();
  const native = loadSodiumNative();
  if (native === undefined) log("crypto bench: sodium-native is not installed (npm ci installs it as a dev dependency); measuring libsodium-wrappers alone");

  const key = wasm.randombytes_buf(32);
  const nonce = wasm.randombytes_buf(24);
  const keyB = Buffer.from(key);
  const nonceB = Buffer.from(nonce);
  const ietfNonce = randomBytes(12);
  const header = new Uint8Array(16);

  // An AEAD path at one size: encrypt (frames, key wrapping) or decrypt (templates, frames).
  const aead = (bytes: number, direction: "encrypt" | "decrypt", associated: Uint8Array | null): Path => {
    const plain = wasm.randombytes_buf(bytes);
    const sealed = wasm.crypto_aead_xchacha20poly1305_ietf_encrypt(plain, associated, null, nonce, key);
    const plainB = Buffer.from(plain);
    const sealedB = Buffer.from(sealed);
    const adB = associated === null ? null : Buffer.from(associated);
    // node:crypto has ChaCha20-Poly1305 with a 96-bit nonce, not XChaCha20's 192-bit one (which
    // adds one HChaCha20 block per message): a close lower bound for what a native call costs.
    const nodeSealed = (() => {
      const cipher = createCipheriv("chacha20-poly1305", keyB, ietfNonce, { authTagLength: 16 });
      if (adB !== null) cipher.setAAD(adB, { plaintextLength: bytes });
      const body = Buffer.concat([cipher.update(plainB), cipher.final()]);
      return { body, tag: cipher.getAuthTag() };
    })();
    if (direction === "encrypt") {
      return {
        wasm: () => wasm.crypto_aead_xchacha20poly1305_ietf_encrypt(plain, associated, null, nonce, key),
        ...(native !== undefined
          ? { native: () => native.crypto_aead_xchacha20poly1305_ietf_encrypt(Buffer.allocUnsafe(bytes + 16), plainB, adB, null, nonceB, keyB) }
          : {}),
        node: () => {
          const cipher = createCipheriv("chacha20-poly1305", keyB, ietfNonce, { authTagLength: 16 });
          if (adB !== null) cipher.setAAD(adB, { plaintextLength: bytes });
          cipher.update(plainB);
          cipher.final();
          cipher.getAuthTag();
        },
      };
    }
    return {
      wasm: () => wasm.crypto_aead_xchacha20poly1305_ietf_decrypt(null, sealed, associated, nonce, key),
      ...(native !== undefined
        ? { native: () => native.crypto_aead_xchacha20poly1305_ietf_decrypt(Buffer.allocUnsafe(bytes), null, sealedB, adB, nonceB, keyB) }
        : {}),
      node: () => {
        const decipher = createDecipheriv("chacha20-poly1305", keyB, ietfNonce, { authTagLength: 16 });
        if (adB !== null) decipher.setAAD(adB, { plaintextLength: bytes });
        decipher.setAuthTag(nodeSealed.tag);
        decipher.update(nodeSealed.body);
        decipher.final();
      },
    };
  };

  const box = wasm.crypto_box_keypair();
  const boxPublic = Buffer.from(box.publicKey);
  const boxSecret = Buffer.from(box.privateKey);
  const probeBytes = 1 + PALM_PROBE_MAX_VARIANTS * PALM_TEMPLATE_MAX_BYTES;
  const probe = wasm.randombytes_buf(probeBytes);
  const sealedProbe = wasm.crypto_box_seal(probe, box.publicKey);
  const sealedProbeB = Buffer.from(sealedProbe);
  const signing = wasm.crypto_sign_keypair();
  const transcript = wasm.randombytes_buf(96);
  const signature = wasm.crypto_sign_detached(transcript, signing.privateKey);
  const [signatureB, transcriptB, signingPublicB] = [signature, transcript, signing.publicKey].map((bytes) => Buffer.from(bytes)) as [Buffer, Buffer, Buffer];
  const fieldLabel = new TextEncoder().encode("data-key:id_0123456789abcdef");

  // The paths the issue names, at the sizes palmline sends and stores.
  const paths: Record<string, Path> = {
    // A small control message and a probe-sized capture frame, both with the frame header as AD.
    frame_encrypt_small: aead(120, "encrypt", header),
    frame_encrypt_capture: aead(probeBytes + 64, "encrypt", header),
    frame_decrypt_small: aead(120, "decrypt", header),
    // The identifier decrypts up to 32 candidates' templates per identification.
    template_decrypt: aead(PALM_TEMPLATE_MAX_BYTES, "decrypt", fieldLabel),
    // A data key wrapped and unwrapped under the region's storage key.
    key_wrap: aead(32, "encrypt", fieldLabel),
    key_unwrap: aead(32, "decrypt", fieldLabel),
    // A data key wrapped to a peer region's key for replication (anonymous box, X25519).
    key_wrap_to_peer: {
      wasm: () => wasm.crypto_box_seal(key, box.publicKey),
      ...(native !== undefined ? { native: () => native.crypto_box_seal(Buffer.allocUnsafe(32 + 48), keyB, boxPublic) } : {}),
    },
    // The sealed capture a scanner sends and the region opens (anonymous box).
    capture_seal_open: {
      wasm: () => wasm.crypto_box_seal_open(sealedProbe, box.publicKey, box.privateKey),
      ...(native !== undefined ? { native: () => native.crypto_box_seal_open(Buffer.allocUnsafe(probeBytes), sealedProbeB, boxPublic, boxSecret) } : {}),
    },
    // One per handshake each way.
    handshake_verify: {
      wasm: () => wasm.crypto_sign_verify_detached(signature, transcript, signing.publicKey),
      ...(native !== undefined ? { native: () => native.crypto_sign_verify_detached(signatureB, transcriptB, signingPublicB) } : {}),
    },
  };

  const samples: Record<string, Partial<Record<Library, number[]>>> = {};
  for (let round = 1; round <= options.rounds; round++) {
    log(`crypto bench: round ${round}/${options.rounds}`);
    for (const [name, path] of Object.entries(paths)) {
      const byLibrary = samples[name] ?? {};
      samples[name] = byLibrary;
      for (const [library, body] of Object.entries(path) as [Library, () => void][]) {
        const values = byLibrary[library] ?? [];
        byLibrary[library] = values;
        values.push(microsPerCall(options.roundMs, body));
      }
    }
  }

  const perPath: Record<string, Record<string, number>> = {};
  for (const [name, byLibrary] of Object.entries(samples)) {
    const figures: Record<string, number> = {};
    for (const [library, values] of Object.entries(byLibrary)) figures[`${library}_us`] = round3(median(values));
    if (figures.native_us !== undefined) figures.native_speedup = round3(figures.wasm_us! / figures.native_us);
    if (figures.node_us !== undefined) figures.node_speedup = round3(figures.wasm_us! / figures.node_us);
    perPath[name] = figures;
    log(
      `  ${name.padEnd(22)} ${Object.entries(figures)
        .map(([k, v]) => `${k} ${v}`)
        .join("  ")}`,
    );
  }
  const issuePaths = ["frame_encrypt_small", "frame_encrypt_capture", "frame_decrypt_small", "template_decrypt", "key_wrap", "key_unwrap"];
  const speedups = issuePaths.map((name) => perPath[name]?.native_speedup).filter((v): v is number => v !== undefined);
  const result = {
    bench: "crypto",
    rounds: options.rounds,
    round_ms: options.roundMs,
    native_available: native !== undefined,
    paths: perPath,
    smallest_native_speedup_on_issue_paths: speedups.length === issuePaths.length ? Math.min(...speedups) : null,
    switch_to_native: speedups.length === issuePaths.length ? speedups.every((s) => s >= SWITCH_RATIO) : null,
  };
  console.log(JSON.stringify(result));
  return result;
}

const round3 = (value: number): number => Math.round(value * 1000) / 1000;
