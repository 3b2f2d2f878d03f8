// A node and a device with a finished handshake over real loopback sockets, for the tests of
// what happens during a session.
import { WebSocket } from "ws";
import { ManualClock } from "../../core/clock.ts";
import {
  generateIdentityKeyPair,
  openInitiatorChannel,
  type InitiatorChannel,
  type InitiatorOptions,
  type ResponderChannel,
  type WireMessage,
} from "../../protocol/index.ts";
import { startNode, type LoopbackNode, type NodeOptions } from "./loopback.ts";

export const region = await generateIdentityKeyPair();
export const device = await generateIdentityKeyPair();

export interface Connected {
  readonly node: LoopbackNode;
  readonly deviceSide: InitiatorChannel;
  readonly regionSide: ResponderChannel;
}

export const connectPair = async (node: LoopbackNode, deviceOptions: Partial<InitiatorOptions> = {}): Promise<Omit<Connected, "node">> => {
  const deviceSide = await openInitiatorChannel(new WebSocket(node.url), {
    identity: device,
    pinnedResponderKey: region.publicKey,
    clock: new ManualClock(),
    ...deviceOptions,
  });
  const outcome = await (await node.nextSession()).outcome;
  if (outcome.kind !== "opened") throw outcome.error;
  return { deviceSide, regionSide: outcome.channel };
};

export const startRegion = (options: Partial<NodeOptions> = {}) => startNode({ identity: region, clock: new ManualClock(), ...options });

/** Collects messages until `count` have arrived. */
export const collect = (channel: { onMessage(h: (m: WireMessage) => void): () => void }, count: number) =>
  new Promise<WireMessage[]>((resolve) => {
    const got: WireMessage[] = [];
    channel.onMessage((m) => {
      got.push(m);
      if (got.length === count) resolve(got);
    });
  });

/** The messages a channel receives, one at a time and in order: `next()` takes the oldest, or waits for one. */
export const messageQueue = (channel: { onMessage(h: (m: WireMessage) => void): () => void }): (() => Promise<WireMessage>) => {
  const arrived: WireMessage[] = [];
  const waiting: ((m: WireMessage) => void)[] = [];
  channel.onMessage((m) => {
    const waiter = waiting.shift();
    if (waiter) waiter(m);
    else arrived.push(m);
  });
  return () => new Promise<WireMessage>((resolve) => (arrived.length > 0 ? resolve(arrived.shift()!) : waiting.push(resolve)));
};
