// One replication link with a peer region, over one secure channel, both directions at once:
//   1. hello each way: region id and where to resume the other's feed. The initiator speaks
//      first; the responder answers only once the federation list (federation-members.ts) names
//      that region id with the key the channel authenticated. Nothing is pinned from the network.
//   2. feed: this region's change feed streamed in batches from the peer's resume point, at most
//      FEED_WINDOW batches unacknowledged (the peer acks once a batch is applied and indexed);
//      the peer's feed applied in arrival order, one batch at a time.
//   3. anti-entropy on request: 256 bucket digests out, records of the differing buckets back in
//      both directions. Only between quiet feeds (each side has applied all the other had sent
//      when the round began), since a feed still catching up makes every bucket differ and
//      would ship the registry twice; and at most REPAIR_MESSAGES_PER_ROUND messages each way
//      per round, further rounds following at once, so a big repair streams instead of flooding.
//      A round is never dropped while the digests may differ: one asked while this side's feed
//      is busy waits for it, and one that found differences is followed by a check round (at a
//      growing interval while rounds keep finding some), until a round finds none.
// Everything received has passed the Schema codec; what the schema cannot say (a tombstone with
// a data key, a field twice) closes the link as MalformedMessage. A record stamped further ahead
// than MAX_CLOCK_SKEW_MS is refused alone (logged, not merged; the rest of its batch applies), and
// this side never sends one: a forged or broken stamp cannot stop a feed. Data keys travel only
// sealed to the receiving region (sealed-data-key.ts); the link never logs record contents.
import { Effect } from "effect";
import { randomUUID } from "node:crypto";
import type { Clock, TimerHandle } from "../../core/clock.ts";
import {
  CloseCode,
  MalformedMessage,
  MAX_RECORDS_PER_MESSAGE,
  MESSAGE_SINCE_VERSION,
  OversizedFrame,
  type ChannelClosure,
  type CloseCodeValue,
  type ReplicatedRecordWire,
  type SecureChannel,
  type WireMessage,
  type WireMessageOf,
} from "../../protocol/index.ts";
import { stampTooFarAhead } from "./clock-skew.ts";
import { SealedDataKeyUnopenable } from "./sealed-data-key.ts";
import type { IdentityRegistryShape, MergeOutcome, RepairPosition } from "../identity/identity-registry.ts";
import { differingBuckets } from "../identity/record-digest.ts";
import { ReplicatedRecordInvalid, type ReplicatedRecord } from "../identity/replicated-record.ts";

/** Batches of the feed in flight before the sender waits for an ack: enough to cover an ack that waits for an erasure snapshot. */
export const FEED_WINDOW = 16;
/** A batch is cut at this many bytes of records (inside a frame's 1 MiB, with room for msgpack). */
export const BATCH_MAX_BYTES = 768 * 1024;
/** Repair messages one side sends in one anti-entropy round; the rest waits for the next round. */
export const REPAIR_MESSAGES_PER_ROUND = 4;
/** How soon a round that left records out (or was put off by a busy feed) is followed by the next. */
export const REPAIR_FOLLOW_UP_MS = 250;
/** The longest wait before checking again after rounds that kept finding differences. */
export const REPAIR_CHECK_MAX_MS = 4_000;
/** The peer must say hello this soon after the channel opens. */
export const HELLO_TIMEOUT_MS = 10_000;
/** The version that introduced the replication messages this link speaks. */
export const REPLICATION_PROTOCOL_VERSION = MESSAGE_SINCE_VERSION["replication.hello"];
/** Inbound batches allowed to wait for their turn; a peer that ignores the window is cut off. */
const MAX_QUEUED_INBOUND = FEED_WINDOW * 4;

/** What a link needs of the registry: its feed, its merge, its digests and its record of peers. */
export type RegistryForLinks = Pick<
  IdentityRegistryShape,
  "latestSeq" | "changesSince" | "merge" | "bucketDigests" | "recordsInBuckets" | "trackPeer" | "recordAcked" | "recordApplied" | "appliedSeq"
>;

export interface PeerLinkOptions {
  readonly regionId: string;
  /** Whether the federation list names this region id with this identity key, now. */
  readonly admit: (regionId: string, publicKey: Uint8Array) => "member" | "not-listed" | "other-key";
  /** Seals data keys to a peer's identity key, and opens those sealed to this region. */
  readonly sealDataKeysTo: (peerPublicKey: Uint8Array) => (dataKey: Uint8Array) => Uint8Array;
  readonly openDataKey: (identityId: string, sealed: Uint8Array) => Uint8Array;
  readonly registry: RegistryForLinks;
  /** Resolves once the shards have followed the registry up to a change number. */
  readonly indexed: (seq: number) => Promise<void>;
  /** Timers of the link (hello timeout, repair rounds). */
  readonly clock: Clock;
  /** The registry's wall time (what its stamps follow): received stamps are judged against it. */
  readonly registryNow: () => number;
  readonly log: (line: string) => void;
  /** Decides, once the peer is known, whether this link stays (one link per peer region). */
  readonly register: (link: PeerLink) => boolean;
  /** The peer has applied more of this region's feed than this region has: it was restored from a backup. */
  readonly restoreNoticed: (link: PeerLink) => void;
  /** An anti-entropy round between quiet feeds found both live registries equal. */
  readonly inSync: (link: PeerLink) => void;
}

class LinkViolation extends Error {
  readonly code: CloseCodeValue;
  constructor(code: CloseCodeValue, reason: string) {
    super(reason);
    this.code = code;
  }
}

type Phase = "awaiting-hello" | "open" | "closed";

export type LinkRole = "initiator" | "responder";

export class PeerLink {
  readonly role: LinkRole;
  readonly closed: Promise<ChannelClosure>;
  /** Set once the peer's hello was admitted (for a dialler: the listed region id it dialled). */
  peerRegionId: string | undefined;
  readonly #channel: SecureChannel;
  readonly #o: PeerLinkOptions;
  #phase: Phase = "awaiting-hello";
  #helloTimer: TimerHandle | undefined;
  /** Outbound feed: the highest sequence sent, and the batches not yet acked. */
  #sentSeq = 0;
  #inFlight: number[] = [];
  #batchRecords = MAX_RECORDS_PER_MESSAGE;
  /** Inbound work (batches, repairs) runs strictly in arrival order. */
  #work: Promise<void> = Promise.resolve();
  #queued = 0;
  /** Feed acks, in order, each once its merge is indexed and erased. */
  #acks: Promise<void> = Promise.resolve();
  /** The digest this side sent and still awaits the answer to. */
  #digestRequest: string | undefined;
  /** This side's latest digest: only answers to it may make this side run another round. */
  #lastDigestRequest: string | undefined;
  /** Where this side's last repair stopped, if it left records out: the next one goes on from there. */
  #repairResume: RepairPosition | undefined;
  /** The next round this side will ask for, if one is due (at most one waits). */
  #roundTimer: TimerHandle | undefined;
  /** How long after a round that found differences the check round follows; doubles while they keep finding some. */
  #checkDelayMs = REPAIR_FOLLOW_UP_MS;
  /**
   * Records this region took from the peer unchanged, by identity, with the change number they
   * got here: the feed skips them while that number stands (the peer has them), instead of
   * echoing everything it received straight back. Entries go once the feed has passed them.
   */
  readonly #echoes = new Map<string, number>();
  /** Feed batches received and not yet applied: applied together, in one transaction. */
  #pendingChanges: WireMessageOf<"replication.changes">[] = [];
  /** Seals data keys to this peer's identity key (the one the channel authenticated). */
  readonly #sealDataKey: (dataKey: Uint8Array) => Uint8Array;

  /** A dialler passes the listed region id it dialled; a responder learns it from the hello. */
  constructor(channel: SecureChannel, role: LinkRole, options: PeerLinkOptions, expectedRegionId?: string) {
    this.#channel = channel;
    this.role = role;
    this.#o = options;
    this.peerRegionId = expectedRegionId;
    this.#sealDataKey = options.sealDataKeysTo(channel.peerPublicKey);
    this.closed = channel.closed.then((closure) => {
      this.#phase = "closed";
      if (this.#helloTimer !== undefined) options.clock.clearTimeout(this.#helloTimer);
      if (this.#roundTimer !== undefined) options.clock.clearTimeout(this.#roundTimer);
      return closure;
    });
    if (channel.protocolVersion < REPLICATION_PROTOCOL_VERSION) {
      channel.close(CloseCode.UnsupportedVersion, `region links need protocol version ${REPLICATION_PROTOCOL_VERSION}`);
      return;
    }
    this.#helloTimer = options.clock.setTimeout(() => {
      this.#helloTimer = undefined;
      if (this.#phase === "awaiting-hello") this.close(CloseCode.HandshakeTimeout, `no replication.hello within ${HELLO_TIMEOUT_MS} ms`);
    }, HELLO_TIMEOUT_MS);
    channel.onMessage((message) => this.#receive(message));
    if (role === "initiator" && expectedRegionId !== undefined) this.#sendHello(expectedRegionId);
  }

  get isOpen(): boolean {
    return this.#phase === "open" && this.#channel.isOpen;
  }

  close(code: CloseCodeValue, reason: string): void {
    this.#channel.close(code, reason);
  }

  /** Settles once inbound work already queued has finished. */
  get idle(): Promise<void> {
    return this.#work;
  }

  /** Sends feed batches while the window has room and the registry has changes past what was sent. */
  pump(): void {
    if (!this.isOpen || this.peerRegionId === undefined) return;
    try {
      while (this.#inFlight.length < FEED_WINDOW && Effect.runSync(this.#o.registry.latestSeq()) > this.#sentSeq) {
        const batch = Effect.runSync(this.#o.registry.changesSince(this.#sentSeq, { maxRecords: this.#batchRecords, maxBytes: BATCH_MAX_BYTES }));
        if (batch.upToSeq <= this.#sentSeq) break;
        const records = batch.records.filter((record) => {
          const echo = this.#echoes.get(record.identityId);
          if (echo === undefined) return this.#sendable(record);
          this.#echoes.delete(record.identityId);
          return echo !== record.changeSeq && this.#sendable(record);
        });
        // Sent even when every record was an echo: the ack moves the peer's position past them.
        const message: WireMessage = {
          type: "replication.changes",
          batchId: randomUUID(),
          records: records.map((record) => toWire(record, this.#sealDataKey)),
          upToSeq: batch.upToSeq,
          more: batch.more,
        };
        for (const record of batch.records) record.dataKey?.fill(0);
        try {
          this.#channel.send(message);
        } catch (error) {
          // Records bigger than estimated: cut smaller batches and try again.
          if (error instanceof OversizedFrame && this.#batchRecords > 1) {
            this.#batchRecords = Math.max(1, Math.floor(batch.records.length / 2));
            continue;
          }
          throw error;
        }
        this.#sentSeq = batch.upToSeq;
        this.#inFlight.push(batch.upToSeq);
      }
    } catch (error) {
      this.#fail(error, "sending the feed");
    }
  }

  /**
   * Starts an anti-entropy round unless one is still waiting for its answer (which decides what
   * follows). While this side's feed is still being sent the round waits for it, shortly.
   */
  antiEntropy(): void {
    if (!this.isOpen || this.#digestRequest !== undefined) return;
    if (!this.#feedAcked()) return this.#roundAfter(REPAIR_FOLLOW_UP_MS);
    const requestId = randomUUID();
    this.#digestRequest = requestId;
    this.#lastDigestRequest = requestId;
    const buckets = Effect.runSync(this.#o.registry.bucketDigests()).map((b) => ({ bucket: b.bucket, digest: b.digest, count: b.count }));
    this.#channel.send({ type: "replication.digest", requestId, feedSeq: this.#sentSeq, buckets });
  }

  /** Everything in this region's feed has been sent to the peer and acknowledged. */
  #feedAcked(): boolean {
    return this.#inFlight.length === 0 && this.#sentSeq >= Effect.runSync(this.#o.registry.latestSeq());
  }

  // ---- receiving ----

  #receive(message: WireMessage): void {
    try {
      if (this.#phase === "awaiting-hello") {
        if (message.type !== "replication.hello") throw new LinkViolation(CloseCode.UnexpectedMessage, `expected replication.hello, got ${message.type}`);
        return this.#onHello(message);
      }
      switch (message.type) {
        case "replication.changes":
          return this.#enqueueChanges(message);
        case "replication.ack":
          return this.#onAck(message);
        case "replication.digest":
          return this.#enqueue(() => this.#onDigest(message));
        case "replication.repair":
          return this.#enqueue(() => this.#onRepair(message));
        case "heartbeat":
          return this.#channel.send({ type: "heartbeat.ack", sentAt: message.sentAt });
        default:
          throw new LinkViolation(CloseCode.UnexpectedMessage, `${message.type} has no place on a region link`);
      }
    } catch (error) {
      this.#fail(error, `handling ${message.type}`);
    }
  }

  #onHello(hello: WireMessageOf<"replication.hello">): void {
    if (hello.regionId === this.#o.regionId) throw new LinkViolation(CloseCode.UnexpectedMessage, "a region cannot link to itself");
    if (this.role === "initiator" && hello.regionId !== this.peerRegionId) {
      throw new LinkViolation(CloseCode.PeerKeyMismatch, `peer says it is ${hello.regionId}, the federation list has its key as ${this.peerRegionId}'s`);
    }
    // The channel authenticated the peer's key; the operator's list says whose key it is.
    switch (this.#o.admit(hello.regionId, this.#channel.peerPublicKey)) {
      case "not-listed":
        throw new LinkViolation(CloseCode.NotFederationMember, `region ${hello.regionId} is not on this region's federation list`);
      case "other-key":
        throw new LinkViolation(CloseCode.PeerKeyMismatch, `region ${hello.regionId} is listed with another identity key`);
    }
    // Replication progress only: trust comes from the list, never from this row.
    Effect.runSync(this.#o.registry.trackPeer(hello.regionId, this.#channel.peerPublicKey));
    this.peerRegionId = hello.regionId;
    if (!this.#o.register(this)) throw new LinkViolation(CloseCode.DuplicatePeerLink, `already linked with ${hello.regionId}`);
    if (this.role === "responder") this.#sendHello(hello.regionId);
    this.#phase = "open";
    if (this.#helloTimer !== undefined) this.#o.clock.clearTimeout(this.#helloTimer);
    this.#helloTimer = undefined;
    const latest = Effect.runSync(this.#o.registry.latestSeq());
    if (hello.appliedSeq > latest) {
      // The peer has more of our feed than we have (we were restored from a backup): resend it all.
      this.#o.log(`replication: ${hello.regionId} resumes at ${hello.appliedSeq}, beyond this feed's ${latest}; streaming from the start`);
      this.#sentSeq = 0;
      this.#o.restoreNoticed(this);
    } else {
      this.#sentSeq = hello.appliedSeq;
    }
    this.#o.log(`replication: linked with ${hello.regionId} (${this.role}), streaming from ${this.#sentSeq}`);
    this.pump();
  }

  #sendHello(peerRegionId: string): void {
    this.#channel.send({ type: "replication.hello", regionId: this.#o.regionId, appliedSeq: Effect.runSync(this.#o.registry.appliedSeq(peerRegionId)) });
  }

  /** A record stamped too far ahead is never sent: the peer would refuse it, and it is not this region's to fix there. */
  #sendable(record: ReplicatedRecord): boolean {
    const ahead = stampTooFarAhead(record, this.#o.registryNow());
    if (ahead === undefined) return true;
    this.#o.log(`replication: not sending to ${this.peerRegionId}: ${ahead.message}`);
    return false;
  }

  #onAck(ack: WireMessageOf<"replication.ack">): void {
    if (ack.upToSeq > this.#sentSeq) throw new LinkViolation(CloseCode.UnexpectedMessage, `ack for ${ack.upToSeq}, beyond the ${this.#sentSeq} sent`);
    this.#inFlight = this.#inFlight.filter((seq) => seq > ack.upToSeq);
    Effect.runSync(this.#o.registry.recordAcked(this.peerRegionId!, ack.upToSeq, this.#o.clock.now()));
    this.pump();
  }

  /**
   * Feed batches that arrive while earlier work runs wait together and are applied as one: one
   * transaction and one index update for all of them, so a peer catching up after a partition
   * pays the commit once per wait, not once per batch. The ack covers them all (acks are
   * cumulative). The window bounds how many can wait; a peer that ignores it is cut off.
   */
  #enqueueChanges(batch: WireMessageOf<"replication.changes">): void {
    if (this.#pendingChanges.length >= MAX_QUEUED_INBOUND) {
      throw new LinkViolation(CloseCode.RateLimited, `more than ${MAX_QUEUED_INBOUND} feed batches waiting`);
    }
    this.#pendingChanges.push(batch);
    if (this.#pendingChanges.length === 1) this.#enqueue(() => this.#onChanges());
  }

  /**
   * Merged here, acknowledged once indexed and erased: the ack waits for that, the next batches'
   * merge does not (the shards and the erasure snapshot catch up with several merges at once).
   * The peer's window bounds how many merged batches await their ack.
   */
  async #onChanges(): Promise<void> {
    const batches = this.#pendingChanges.splice(0);
    if (batches.length === 0) return;
    const seq = await this.#merge(batches.flatMap((b) => b.records));
    const upToSeq = Math.max(...batches.map((b) => b.upToSeq));
    const peer = this.peerRegionId!;
    this.#acks = this.#acks
      .then(async () => {
        await this.#o.indexed(seq);
        if (!this.isOpen) return;
        Effect.runSync(this.#o.registry.recordApplied(peer, upToSeq, this.#o.clock.now()));
        this.#channel.send({ type: "replication.ack", upToSeq });
      })
      .catch((error: unknown) => this.#fail(error, "acknowledging the feed"));
  }

  #onDigest(digest: WireMessageOf<"replication.digest">): void {
    if (!this.#feedAcked() || Effect.runSync(this.#o.registry.appliedSeq(this.peerRegionId!)) < digest.feedSeq) {
      // A feed is still catching up: the buckets would differ by what it is about to deliver.
      // An empty answer with `more` puts the round off: the asker tries again shortly.
      this.#channel.send({ type: "replication.repair", requestId: digest.requestId, records: [], wanted: [], more: true });
      return;
    }
    const theirs = new Map(digest.buckets.map((b) => [b.bucket, b]));
    if (theirs.size !== digest.buckets.length) throw new LinkViolation(CloseCode.MalformedMessage, "a bucket appears twice in a digest");
    const differing = differingBuckets(theirs, new Map(Effect.runSync(this.#o.registry.bucketDigests()).map((b) => [b.bucket, b])));
    this.#sendRepair(digest.requestId, differing, differing);
    if (differing.length === 0) this.#o.inSync(this);
  }

  async #onRepair(repair: WireMessageOf<"replication.repair">): Promise<void> {
    await this.#apply(repair.records);
    // Only the answer to our own digest may ask for records back: nobody else gets a dump.
    let again = repair.more && repair.requestId === this.#lastDigestRequest;
    let foundDifferences = false;
    if (repair.requestId === this.#digestRequest) {
      this.#digestRequest = undefined;
      foundDifferences = repair.wanted.length > 0;
      if (foundDifferences) again = this.#sendRepair(repair.requestId, repair.wanted, []) || again;
      else if (!repair.more) {
        // The digests agreed.
        this.#checkDelayMs = REPAIR_FOLLOW_UP_MS;
        this.#o.inSync(this);
      }
    }
    // A round that left records out, or was put off, is followed by the next one shortly; one
    // that repaired differences, by a check that the digests now agree (whatever changed while
    // it ran is found then, not a whole anti-entropy period later).
    if (again) this.#roundAfter(REPAIR_FOLLOW_UP_MS);
    else if (foundDifferences) {
      this.#roundAfter(this.#checkDelayMs);
      this.#checkDelayMs = Math.min(this.#checkDelayMs * 2, REPAIR_CHECK_MAX_MS);
    }
  }

  #roundAfter(delayMs: number): void {
    if (this.#roundTimer !== undefined || this.#phase === "closed") return;
    this.#roundTimer = this.#o.clock.setTimeout(() => {
      this.#roundTimer = undefined;
      this.antiEntropy();
    }, delayMs);
  }

  /**
   * The records of `buckets`, in at most REPAIR_MESSAGES_PER_ROUND messages; `wanted` rides on the
   * first, `more` on the last. Answers whether records were left out.
   */
  #sendRepair(requestId: string, buckets: readonly number[], wanted: readonly number[]): boolean {
    const messages: ReplicatedRecordWire[][] = [];
    let chunk: ReplicatedRecordWire[] = [];
    let bytes = 0;
    let more = false;
    let last: RepairPosition | undefined;
    for (const record of buckets.length === 0
      ? []
      : Effect.runSync(this.#o.registry.recordsInBuckets(buckets, this.#repairResume, REPAIR_MESSAGES_PER_ROUND * MAX_RECORDS_PER_MESSAGE + 1))) {
      const size = recordBytes(record);
      if (chunk.length > 0 && (chunk.length >= MAX_RECORDS_PER_MESSAGE || bytes + size > BATCH_MAX_BYTES)) {
        messages.push(chunk);
        chunk = [];
        bytes = 0;
        if (messages.length === REPAIR_MESSAGES_PER_ROUND) {
          more = true;
          break;
        }
      }
      if (!this.#sendable(record)) continue;
      chunk.push(toWire(record, this.#sealDataKey));
      record.dataKey?.fill(0);
      bytes += size;
      last = { bucket: record.bucket, identityId: record.identityId };
    }
    if (!more && (chunk.length > 0 || messages.length === 0)) messages.push(chunk);
    // Records before the resume point are skipped until a round gets through to the end; then
    // the next starts from the beginning again (what still differs there is sent then).
    this.#repairResume = more ? last : undefined;
    messages.forEach((records, i) =>
      this.#channel.send({ type: "replication.repair", requestId, records, wanted: i === 0 ? [...wanted] : [], more: more && i === messages.length - 1 }),
    );
    return more;
  }

  /** Merges records and waits until the index holds them (and no index file holds what they removed). */
  async #apply(wire: readonly ReplicatedRecordWire[]): Promise<void> {
    // Acknowledged once the index holds it too, as a local enrollment is answered.
    await this.#o.indexed(await this.#merge(wire));
  }

  /** Merges records into the registry; answers the merge's change number (0 when nothing was accepted or changed). */
  async #merge(wire: readonly ReplicatedRecordWire[]): Promise<number> {
    const now = this.#o.registryNow();
    const accepted = wire.filter((record) => {
      const ahead = stampTooFarAhead(record, now);
      if (ahead !== undefined) this.#o.log(`replication: refused a record from ${this.peerRegionId}: ${ahead.message}`);
      return ahead === undefined;
    });
    if (accepted.length === 0) return 0;
    const records = accepted.map((record) => fromWire(record, this.#o.openDataKey));
    let outcome: MergeOutcome;
    try {
      outcome = await Effect.runPromise(this.#o.registry.merge(records));
    } finally {
      for (const record of records) record.dataKey?.fill(0);
    }
    for (const [identityId, seq] of outcome.adopted) if (seq > this.#sentSeq) this.#echoes.set(identityId, seq);
    return outcome.seq;
  }

  #enqueue(task: () => Promise<void> | void): void {
    if (this.#queued >= MAX_QUEUED_INBOUND) throw new LinkViolation(CloseCode.RateLimited, `more than ${MAX_QUEUED_INBOUND} replication messages waiting`);
    this.#queued++;
    this.#work = this.#work.then(async () => {
      try {
        if (this.#phase === "closed") return;
        await task();
      } catch (error) {
        this.#fail(error, "applying replicated records");
      } finally {
        this.#queued--;
      }
    });
  }

  #fail(error: unknown, during: string): void {
    if (error instanceof LinkViolation) {
      this.#o.log(`replication: closing link with ${this.peerRegionId ?? "an unidentified region"}: ${error.message}`);
      this.close(error.code, error.message);
      return;
    }
    if (error instanceof ReplicatedRecordInvalid || error instanceof SealedDataKeyUnopenable) {
      this.#o.log(`replication: closing link with ${this.peerRegionId}: ${error.message}`);
      this.close(CloseCode.MalformedMessage, error.message);
      return;
    }
    // Only the error's message, never the records (they carry data keys); a schema failure's
    // message may quote the value it refused, so only its name is logged.
    const text = error instanceof MalformedMessage ? "an outgoing message failed its schema" : error instanceof Error ? error.message : String(error);
    this.#o.log(`replication: link with ${this.peerRegionId ?? "an unidentified region"} failed while ${during}: ${text.slice(0, 300)}`);
    this.close(CloseCode.InternalError, `failed while ${during}`);
  }
}

const toWire = (record: ReplicatedRecord, sealDataKey: (dataKey: Uint8Array) => Uint8Array): ReplicatedRecordWire => ({
  identityId: record.identityId,
  originRegion: record.originRegion,
  created: record.created,
  lastSeenMs: record.lastSeenMs,
  ...(record.tombstone !== undefined ? { tombstone: record.tombstone } : {}),
  ...(record.tombstoneReason !== undefined ? { tombstoneReason: record.tombstoneReason } : {}),
  ...(record.tombstoneSignature !== undefined ? { tombstoneSignature: record.tombstoneSignature } : {}),
  ...(record.dataKey !== undefined ? { sealedDataKey: sealDataKey(record.dataKey) } : {}),
  fields: record.fields.map((f) => ({ name: f.name, stamp: f.stamp, value: f.value, signature: f.signature })),
});

/** What the schema cannot check: a record is either live with a key, or a bare tombstone. */
const fromWire = (wire: ReplicatedRecordWire, openDataKey: (identityId: string, sealed: Uint8Array) => Uint8Array): ReplicatedRecord => {
  if (wire.tombstone !== undefined && (wire.sealedDataKey !== undefined || wire.fields.length > 0)) {
    throw new LinkViolation(CloseCode.MalformedMessage, "a tombstoned record carries fields or a data key");
  }
  if (wire.tombstone === undefined && wire.sealedDataKey === undefined)
    throw new LinkViolation(CloseCode.MalformedMessage, "a live record without its data key");
  if (new Set(wire.fields.map((f) => f.name)).size !== wire.fields.length)
    throw new LinkViolation(CloseCode.MalformedMessage, "a field appears twice in a record");
  return {
    identityId: wire.identityId,
    originRegion: wire.originRegion,
    created: wire.created,
    lastSeenMs: wire.lastSeenMs,
    tombstone: wire.tombstone,
    ...(wire.tombstoneReason !== undefined ? { tombstoneReason: wire.tombstoneReason } : {}),
    ...(wire.tombstoneSignature !== undefined ? { tombstoneSignature: wire.tombstoneSignature } : {}),
    dataKey: wire.sealedDataKey === undefined ? undefined : openDataKey(wire.identityId, wire.sealedDataKey),
    fields: wire.fields.map((f) => ({ name: f.name, stamp: f.stamp, value: f.value, signature: f.signature })),
  };
};

const recordBytes = (record: ReplicatedRecord): number => 256 + record.fields.reduce((sum, f) => sum + 96 + f.name.length + (f.value?.byteLength ?? 0), 0);
