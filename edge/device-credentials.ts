// What a scanner keeps on its own disk: its Ed25519 identity key, the region it is pinned to and
// its mode (edge/device-mode.ts says why the mode lives here). Nothing personal: no images, no
// signatures, no card data, ever.
import { existsSync, mkdirSync, readFileSync, renameSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { generateIdentityKeyPair, type IdentityKeyPair } from "../protocol/index.ts";
import { isDeviceMode, type DeviceMode } from "./device-mode.ts";

export interface DeviceCredentials {
  readonly identity: IdentityKeyPair;
  /** The region's identity key, pinned at provisioning; a region that cannot prove it is refused. */
  readonly pinnedRegionKey: Uint8Array;
  readonly regionUrl: string;
  readonly deviceName: string;
  /** What the device is set up for; a device with none set runs any flow (a bench rig, a demo). */
  readonly mode?: DeviceMode;
}

const b64 = (b: Uint8Array) => Buffer.from(b).toString("base64");
const unb64 = (s: string) => new Uint8Array(Buffer.from(s, "base64"));

export const createDeviceCredentials = async (options: {
  regionUrl: string;
  pinnedRegionKey: Uint8Array;
  deviceName: string;
  mode?: DeviceMode;
}): Promise<DeviceCredentials> => ({
  identity: await generateIdentityKeyPair(),
  pinnedRegionKey: options.pinnedRegionKey,
  regionUrl: options.regionUrl,
  deviceName: options.deviceName,
  ...(options.mode !== undefined ? { mode: options.mode } : {}),
});

export const saveDeviceCredentials = (stateDir: string, credentials: DeviceCredentials): void => {
  mkdirSync(stateDir, { recursive: true, mode: 0o700 });
  const path = join(stateDir, "device.json");
  writeFileSync(
    `${path}.tmp`,
    JSON.stringify({
      deviceName: credentials.deviceName,
      regionUrl: credentials.regionUrl,
      pinnedRegionKey: b64(credentials.pinnedRegionKey),
      publicKey: b64(credentials.identity.publicKey),
      secretKey: b64(credentials.identity.secretKey),
      ...(credentials.mode !== undefined ? { mode: credentials.mode } : {}),
    }),
    { mode: 0o600 },
  );
  renameSync(`${path}.tmp`, path);
};

export const loadDeviceCredentials = (stateDir: string): DeviceCredentials | undefined => {
  const path = join(stateDir, "device.json");
  if (!existsSync(path)) return undefined;
  const raw = JSON.parse(readFileSync(path, "utf8")) as Record<string, string>;
  return {
    deviceName: String(raw.deviceName),
    regionUrl: String(raw.regionUrl),
    pinnedRegionKey: unb64(String(raw.pinnedRegionKey)),
    identity: { publicKey: unb64(String(raw.publicKey)), secretKey: unb64(String(raw.secretKey)) },
    // An unknown mode in the file (a newer build's?) is dropped rather than trusted.
    ...(isDeviceMode(raw.mode) ? { mode: raw.mode } : {}),
  };
};
