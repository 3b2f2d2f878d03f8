// A phone number finds one person: the privacy portal signs them in by it and a step-up asks for
// its digits. A later enrollment with a number a live identity holds used to take the number's
// index entry over, leaving the first person unable to reach their own record; now it is
// refused, and the number still finds its holder. A real node in this process (SQLite, shards,
// libsodium), kiosks over real WebSockets, the processor simulator over HTTP.
import { Effect } from "effect";
import { afterEach, expect, test } from "vitest";
import { type SimulatedRegion, startSimulatedRegion } from "../../cli/simulated-region.ts";
import { sealForRequest, syntheticPalm } from "./fixtures.ts";

const PHONE = "+4915112340001";

const running: SimulatedRegion[] = [];
afterEach(async () => {
  for (const region of running.splice(0)) await region.close();
});

let kiosks = 0;
/** A kiosk enrollment of `palm` with `phone`, its code read from the simulated SMS gateway. */
const enrollWithPhone = async (region: SimulatedRegion, palm: number, phone: string) => {
  const kiosk = await region.link(`kiosk-${++kiosks}`, { binding: { roles: ["enrollment-kiosk"] } });
  try {
    const card = await region.vaultCard("4242424242424242");
    await kiosk.verifyPhone(phone);
    return await kiosk.enroll(await sealForRequest(kiosk, ...[0, 1, 2, 3].map((capture) => syntheticPalm(palm)(capture))), {
      card: { processorToken: card.vaultToken, brand: card.brand, last4: card.last4, expiryMonth: card.expiryMonth, expiryYear: card.expiryYear },
      phone: { number: phone, verificationCode: region.sms.lastCodeFor(phone)! },
    });
  } finally {
    kiosk.close();
  }
};

test("an enrollment with a phone number another enrolled person holds is refused, and the number still finds its holder", async () => {
  const region = await startSimulatedRegion({ regionId: "phones", shardCount: 1 });
  running.push(region);
  const first = await enrollWithPhone(region, 81, PHONE);
  expect(first.outcome).toBe("enrolled");

  const second = await enrollWithPhone(region, 82, PHONE);
  expect(second).toMatchObject({ outcome: "rejected" });
  expect(second.reason).toMatch(/already linked to an enrolled palm/);
  expect(Effect.runSync(region.node.flows.registry.findByPhone(PHONE))).toBe(first.identityId);
  expect(region.node.replication.status().live).toBe(1);
});
