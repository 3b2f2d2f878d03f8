// The inspector never admits a device (issue #15, finding 4): a key's session waiting to be
// provisioned is the region's own actor, which the inspector watches but cannot drive, with its
// token or without; the session still answers NotProvisioned to anything but provisioning.
import { afterEach, expect, test } from "vitest";
import { WebSocket } from "ws";
import { startRegionNode } from "../../cloud/region-node.ts";
import { systemClock } from "../../core/clock.ts";
import { InspectionHub } from "../../inspector/inspection-hub.ts";
import { startInspectorServer } from "../../inspector/inspector-server.ts";
import { generateIdentityKeyPair, openInitiatorChannel, type WireMessage } from "../../protocol/index.ts";
import { tempDir } from "./fixtures.ts";

const cleanups: (() => Promise<void> | void)[] = [];
afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c();
});

const TOKEN = "inspector-token-for-tests";

test("even with its token, the inspector cannot move a waiting key's device session to ready", async () => {
  const hub = new InspectionHub();
  const node = await startRegionNode({
    regionId: "t",
    dataDir: tempDir(),
    host: "127.0.0.1",
    port: 0,
    shardCount: 1,
    clock: systemClock,
    log: () => {},
    inspection: hub,
  });
  cleanups.push(() => node.close());
  const inspector = await startInspectorServer({ hub, title: "test", token: TOKEN });
  cleanups.push(() => inspector.close());
  const channel = await openInitiatorChannel(new WebSocket(node.url), {
    identity: await generateIdentityKeyPair(),
    pinnedResponderKey: node.identityPublicKey,
  });
  cleanups.push(() => channel.close(1000, "done"));
  const waiting = () => hub.actors().find((a) => a.group === "sessions" && a.value === "provisioning");
  for (let i = 0; waiting() === undefined && i < 100; i++) await new Promise((r) => setImmediate(r));
  const session = waiting()!;
  expect(session.acceptedEvents).toContain("PROVISIONED");

  const post = (path: string, body: unknown) =>
    fetch(`${inspector.url}api/actors/${encodeURIComponent(session.sessionId)}/${path}`, {
      method: "POST",
      headers: { authorization: `Bearer ${TOKEN}`, "content-type": "application/json" },
      body: JSON.stringify(body),
    });
  for (const type of session.acceptedEvents) expect((await post("events", { type, deviceId: "dev_forged" })).status).toBe(404);
  await (await post("commands/provision", {})).body?.cancel();

  expect(hub.actors().find((a) => a.sessionId === session.sessionId)?.value).toBe("provisioning");
  const answer = new Promise<WireMessage>((resolve) => channel.onMessage(resolve));
  channel.send({ type: "heartbeat", sentAt: Date.now() });
  expect(await answer).toMatchObject({ type: "error", code: "NotProvisioned" });
});
