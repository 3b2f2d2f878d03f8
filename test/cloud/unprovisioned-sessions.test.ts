// Any key may open a session to ask to be provisioned, so such sessions are bounded: a key that
// does not provision itself is let go after UNPROVISIONED_IDLE_MS, and no more than
// MAX_UNPROVISIONED_SESSIONS wait at once (fresh keys cannot pile up sessions on the node).
import { afterEach, expect, test } from "vitest";
import { WebSocket } from "ws";
import { startRegionNode } from "../../cloud/region-node.ts";
import { MAX_UNPROVISIONED_SESSIONS, UNPROVISIONED_IDLE_MS } from "../../cloud/server/region-server.ts";
import { ManualClock } from "../../core/clock.ts";
import { CloseCode, generateIdentityKeyPair, openInitiatorChannel } from "../../protocol/index.ts";
import { tempDir } from "./fixtures.ts";

const cleanups: (() => Promise<void> | void)[] = [];
afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c();
});

const startNode = async (clock: ManualClock) => {
  const node = await startRegionNode({ regionId: "t", dataDir: tempDir(), host: "127.0.0.1", port: 0, shardCount: 1, clock, log: () => {} });
  cleanups.push(() => node.close());
  return node;
};

/** A fresh key's session that asks for nothing: what a flood of new keys would hold open. */
const openUnprovisioned = async (node: Awaited<ReturnType<typeof startNode>>) => {
  const channel = await openInitiatorChannel(new WebSocket(node.url), {
    identity: await generateIdentityKeyPair(),
    pinnedResponderKey: node.identityPublicKey,
  });
  cleanups.push(() => channel.close(1000, "done"));
  return channel;
};

test("a key that does not provision itself is let go after the idle limit", async () => {
  const clock = new ManualClock(1_000);
  const node = await startNode(clock);
  const channel = await openUnprovisioned(node);
  clock.advance(UNPROVISIONED_IDLE_MS - 1);
  expect(channel.isOpen).toBe(true);
  clock.advance(1);
  expect((await channel.closed).code).toBe(CloseCode.NotProvisioned);
});

test("no more than the cap of unprovisioned sessions wait at once; another fresh key is refused", async () => {
  const node = await startNode(new ManualClock(1_000));
  for (let i = 0; i < MAX_UNPROVISIONED_SESSIONS; i++) await openUnprovisioned(node);
  await expect(openUnprovisioned(node)).rejects.toMatchObject({ closeCode: CloseCode.RateLimited });
}, 60_000);
