// The scanner's link to its region, against a scripted region on a real secure channel: every
// request is correlated with its answer by request id, has a deadline on the link's clock, and a
// refusal arrives as the region's wire code, the only thing the scanner decides on.
import { expect, test } from "vitest";
import { ManualClock } from "../../core/clock.ts";
import { createDeviceCredentials } from "../../edge/device-credentials.ts";
import { ProvisioningRefused, RegionLink, RegionRefused, RegionUnavailable, UnexpectedReply } from "../../edge/region-link.ts";
import { generateTemplateKeyPair, type ResponderChannel } from "../../protocol/index.ts";
import { region } from "../protocol/channel-harness.ts";
import { startNodesStoppedAfterEach } from "../protocol/loopback.ts";

const startNode = startNodesStoppedAfterEach();
const templateKeys = await generateTemplateKeyPair();
const PHONE = "+491511234567";

type Answer = (requestId: string, regionSide: ResponderChannel) => void;

/**
 * A scripted region: for a device it knows it says session.ready at once; a new one gets
 * NotProvisioned for its first heartbeat and a refusal for any one-time code. Every other request
 * gets `answer`.
 */
const linkTo = async (device: "known" | "new", answer: Answer = () => {}, provisioningCode?: string) => {
  const node = await startNode({ identity: region, clock: new ManualClock() });
  const clock = new ManualClock();
  const credentials = await createDeviceCredentials({ regionUrl: node.url, pinnedRegionKey: region.publicKey, deviceName: "lane" });
  const connecting = RegionLink.connect({ credentials, clock, requestTimeoutMs: 5_000, ...(provisioningCode !== undefined ? { provisioningCode } : {}) });
  const outcome = await (await node.nextSession()).outcome;
  if (outcome.kind !== "opened") throw outcome.error;
  const regionSide = outcome.channel;
  regionSide.onMessage((m) => {
    if (m.type === "provision.request") regionSide.send({ type: "provision.result", requestId: m.requestId, outcome: "refused", reason: "unknown code" });
    else if (m.type === "heartbeat") {
      if (device === "new") regionSide.send({ type: "error", code: "NotProvisioned", message: "provision first" });
    } else if ("requestId" in m && m.requestId !== undefined) answer(m.requestId, regionSide);
  });
  if (device === "known") regionSide.send({ type: "session.ready", deviceId: "dev_lane", templatePublicKey: templateKeys.publicKey, serverTime: 0 });
  return { connecting, regionSide, clock };
};

const provisioned = async (answer: Answer) => {
  const { connecting, regionSide, clock } = await linkTo("known", answer);
  return { link: await connecting, regionSide, clock };
};

test("an answer reaches the request with its request id", async () => {
  const { link } = await provisioned((requestId, regionSide) => regionSide.send({ type: "phone.verify.result", requestId, outcome: "sent" }));
  await expect(link.verifyPhone(PHONE)).resolves.toMatchObject({ type: "phone.verify.result", outcome: "sent" });
});

test("a request the region refuses fails with the region's wire code", async () => {
  const { link } = await provisioned((requestId, regionSide) =>
    regionSide.send({ type: "error", requestId, code: "FlowUnavailable", message: "no phones here" }),
  );
  const refused = link.verifyPhone(PHONE);
  await expect(refused).rejects.toBeInstanceOf(RegionRefused);
  await expect(refused).rejects.toMatchObject({ code: "FlowUnavailable" });
});

test("an answer of another kind than the request's result fails with UnexpectedReply", async () => {
  const { link } = await provisioned((requestId, regionSide) => regionSide.send({ type: "deletion.result", requestId, outcome: "no-match" }));
  await expect(link.verifyPhone(PHONE)).rejects.toBeInstanceOf(UnexpectedReply);
});

test("a request with no answer by its deadline fails with RegionUnavailable, on the link's clock", async () => {
  const { link, clock } = await provisioned(() => {});
  const unanswered = link.verifyPhone(PHONE);
  clock.advance(5_000);
  await expect(unanswered).rejects.toBeInstanceOf(RegionUnavailable);
});

test("a request still waiting when the link closes fails with RegionUnavailable", async () => {
  const { link, regionSide } = await provisioned(() => {});
  const waiting = link.verifyPhone(PHONE);
  regionSide.close(1000, "bye");
  await expect(waiting).rejects.toBeInstanceOf(RegionUnavailable);
});

test("a one-time code the region turns down fails the connection with ProvisioningRefused", async () => {
  const { connecting } = await linkTo("new", undefined, "WRONG-CODE");
  await expect(connecting).rejects.toBeInstanceOf(ProvisioningRefused);
});

test("a new device without a one-time code fails with the region's NotProvisioned", async () => {
  const { connecting } = await linkTo("new");
  await expect(connecting).rejects.toMatchObject({ _tag: "RegionRefused", code: "NotProvisioned" });
});
