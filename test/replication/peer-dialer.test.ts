// Redialling a peer region, on a ManualClock: growing backoff with jitter while it cannot be
// reached, and no dialling at all once stopped.
import { createServer } from "node:net";
import { afterEach, expect, test } from "vitest";
import { PeerDialer, RETRY_FIRST_MS, RETRY_MAX_MS } from "../../cloud/replication/peer-dialer.ts";
import { ManualClock } from "../../core/clock.ts";
import { generateIdentityKeyPair } from "../../protocol/index.ts";

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
  expect(delays.slice(0, 4)).toEqual([RETRY_FIRST_MS, RETRY_FIRST_MS * 2, RETRY_FIRST_MS * 4, RETRY_FIRST_MS * 8]);
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
