// Redialling a peer region, on a ManualClock: growing backoff with jitter while it cannot be
// reached, standing by while another link with the peer serves, and no dialling at all once
// stopped.
import { createServer } from "node:net";
import { WebSocket } from "ws";
import { afterEach, expect, test } from "vitest";
import { PeerDialer, replicationUrlOf, RETRY_FIRST_MS, RETRY_MAX_MS } from "../../cloud/replication/peer-dialer.ts";
import { ManualClock } from "../../core/clock.ts";
import { CloseCode, generateIdentityKeyPair, openInitiatorChannel, type PeerAdmission } from "../../protocol/index.ts";
import { startNodesStoppedAfterEach } from "../protocol/loopback.ts";

const stops: (() => void)[] = [];
afterEach(() => {
  for (const stop of stops.splice(0)) stop();
});

/** A port nothing listens on: bound, then released. */
const closedPort = () =>
  new Promise<number>((resolve) => {
    const server = createServer();
    server.listen(0, "127.0.0.1", () => {
      const { port } = server.address() as { port: number };
      server.close(() => resolve(port));
    });
  });

const unreachableDialer = async (random: () => number) => {
  const clock = new ManualClock(1_000);
  const retries: string[] = [];
  const dialer = new PeerDialer({
    peer: { regionId: "b", identityPublicKey: (await generateIdentityKeyPair()).publicKey, url: `ws://127.0.0.1:${await closedPort()}` },
    identity: await generateIdentityKeyPair(),
    clock,
    log: (line) => retries.push(line),
    openLink: () => {
      throw new Error("never reached");
    },
    random,
  });
  stops.push(() => dialer.stop());
  /** Runs the pending dial, waits for it to fail (the network is real) and answers the next retry's delay. */
  const nextRetryDelay = async () => {
    const before = retries.length;
    clock.advance(clock.nextDeadline()! - clock.now());
    while (retries.length === before) await new Promise((r) => setTimeout(r, 2));
    return clock.nextDeadline()! - clock.now();
  };
  return { clock, dialer, nextRetryDelay };
};

test("an unreachable peer is dialled again after a doubling backoff, up to the cap", async () => {
  const { dialer, nextRetryDelay } = await unreachableDialer(() => 1);
  dialer.start();
  const delays: number[] = [];
  for (let i = 1; i <= 9; i++) delays.push(await nextRetryDelay());
  expect(delays.slice(0, 3)).toEqual([RETRY_FIRST_MS, RETRY_FIRST_MS * 2, Math.min(RETRY_FIRST_MS * 4, RETRY_MAX_MS)]);
  expect(delays.slice(-2)).toEqual([RETRY_MAX_MS, RETRY_MAX_MS]);
  expect(dialer.state()).toMatchObject({ state: "waiting", lastError: expect.any(String) });
});

test("jitter spreads a retry over the upper half of its backoff", async () => {
  const { dialer, nextRetryDelay } = await unreachableDialer(() => 0);
  dialer.start();
  expect(await nextRetryDelay()).toBe(RETRY_FIRST_MS / 2);
});

test("a stopped dialer schedules nothing more", async () => {
  const { clock, dialer, nextRetryDelay } = await unreachableDialer(() => 1);
  dialer.start();
  await nextRetryDelay();
  dialer.stop();
  expect(clock.nextDeadline()).toBeUndefined();
  expect(dialer.state().state).toBe("stopped");
});

test("a peer that is back is dialled again within a second", () => {
  // The longest wait between two dials of an unreachable peer: a healed link is back this soon.
  expect(RETRY_MAX_MS).toBeLessThan(1_000);
});

const startNode = startNodesStoppedAfterEach();

/**
 * A peer region (real handshake, real sockets) that admits the first link and refuses every
 * other with DuplicatePeerLink while that one is open, as a region with a link to us does.
 */
const peerWithOneLink = async () => {
  const identity = await generateIdentityKeyPair();
  let serving = false;
  const node = await startNode({
    identity,
    recordFrames: false,
    admitPeer: (): PeerAdmission => {
      if (serving) return { kind: "refuse", code: CloseCode.DuplicatePeerLink, reason: "already linked with a" };
      serving = true;
      return { kind: "admit" };
    },
  });
  return { identity, url: node.url.replace(/\/replication$/, "") };
};

const dialerBesideAServingLink = async (o: { knowsServingLink: boolean }) => {
  const clock = new ManualClock(1_000);
  const peer = await peerWithOneLink();
  const ownIdentity = await generateIdentityKeyPair();
  // The other link: the peer's own, as this region holds it.
  const servingChannel = await openInitiatorChannel(new WebSocket(replicationUrlOf(peer.url)), {
    identity: ownIdentity,
    pinnedResponderKey: peer.identity.publicKey,
    clock,
  });
  const logs: string[] = [];
  const dialer = new PeerDialer({
    peer: { regionId: "b", identityPublicKey: peer.identity.publicKey, url: peer.url },
    identity: ownIdentity,
    clock,
    log: (line) => logs.push(line),
    openLink: () => {
      throw new Error("the peer refuses this dialer's link while the other serves");
    },
    servingLink: () => (o.knowsServingLink && servingChannel.isOpen ? { closed: servingChannel.closed } : undefined),
    random: () => 1,
  });
  stops.push(() => dialer.stop());
  dialer.start();
  clock.advance(0);
  while (dialer.state().lastCloseCode === undefined) await new Promise((r) => setTimeout(r, 2));
  return { clock, dialer, servingChannel, logs };
};

test("a duplicate-link refusal waits for the link that serves instead of dialling again", async () => {
  const { clock, dialer } = await dialerBesideAServingLink({ knowsServingLink: true });
  expect(dialer.state()).toMatchObject({ state: "waiting", lastCloseCode: CloseCode.DuplicatePeerLink });
  expect(clock.nextDeadline()).toBeUndefined();
});

test("once the link that served closes, the refused dialer dials again within the first backoff", async () => {
  const { clock, servingChannel } = await dialerBesideAServingLink({ knowsServingLink: true });
  servingChannel.close(CloseCode.ServerShutdown, "partitioned");
  await servingChannel.closed;
  await Promise.resolve();
  expect(clock.nextDeadline()! - clock.now()).toBeLessThanOrEqual(RETRY_FIRST_MS);
});

test("a duplicate-link refusal with no serving link known here redials on the ordinary backoff", async () => {
  const { clock } = await dialerBesideAServingLink({ knowsServingLink: false });
  expect(clock.nextDeadline()! - clock.now()).toBeLessThanOrEqual(RETRY_MAX_MS);
});
