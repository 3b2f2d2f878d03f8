import { describe, expect, test } from "vitest";
import { PROVISIONING_CODE_TTL_MS, ProvisioningRefused } from "../../cloud/storage/sqlite/device-directory.ts";
import type { DeviceBinding } from "../../cloud/storage/device-binding.ts";
import { openTestRegistry } from "./fixtures.ts";

const key = (fill: number) => new Uint8Array(32).fill(fill);
const KIOSK: DeviceBinding = { roles: ["enrollment-kiosk"] };

describe("device directory", () => {
  test("a one-time code provisions a device, which is then active", async () => {
    const { devices } = await openTestRegistry();
    const code = devices.issueProvisioningCode(KIOSK, 0);
    const deviceId = devices.provision(key(1), "kiosk", code, 10);
    expect(devices.standing(key(1))).toEqual({ kind: "active", deviceId, binding: KIOSK });
  });

  test("a code works only once", async () => {
    const { devices } = await openTestRegistry();
    const code = devices.issueProvisioningCode(KIOSK, 0);
    devices.provision(key(1), "kiosk", code, 10);
    expect(() => devices.provision(key(2), "intruder", code, 20)).toThrow(ProvisioningRefused);
    expect(devices.standing(key(2))).toEqual({ kind: "unknown" });
  });

  test("an expired code is refused", async () => {
    const { devices } = await openTestRegistry();
    const code = devices.issueProvisioningCode(KIOSK, 0);
    expect(() => devices.provision(key(1), "kiosk", code, PROVISIONING_CODE_TTL_MS + 1)).toThrow(/expired/);
  });

  test("an unknown code is refused", async () => {
    const { devices } = await openTestRegistry();
    expect(() => devices.provision(key(1), "kiosk", "NOTACODE00", 0)).toThrow(/unknown code/);
  });

  test("a provisioned device is bound to the roles, merchant and venue its code named", async () => {
    const { devices } = await openTestRegistry();
    const lane: DeviceBinding = { roles: ["checkout", "service-point"], merchantId: "m_corner_store" };
    devices.provision(key(1), "lane", devices.issueProvisioningCode(lane, 0), 1);
    expect(devices.standing(key(1))).toMatchObject({ kind: "active", binding: lane });
  });

  test("a revoked device stays revoked, even with a fresh code", async () => {
    const { devices } = await openTestRegistry();
    const deviceId = devices.provision(key(1), "kiosk", devices.issueProvisioningCode(KIOSK, 0), 1);
    expect(devices.revoke(deviceId, 2)).toBe(true);
    expect(devices.standing(key(1)).kind).toBe("revoked");
    expect(() => devices.provision(key(1), "kiosk", devices.issueProvisioningCode(KIOSK, 3), 4)).toThrow(/revoked/);
  });
});
