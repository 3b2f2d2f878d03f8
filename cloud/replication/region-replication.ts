// The region's replication service: every link with a peer region (dialled at the URL the
// federation list gives, or accepted on /replication), at most one per peer region and only with
// regions the list names with the key the channel authenticated, fed whenever the registry
// publishes a change (registryChanged, from the registry's change stream), plus the periodic
// chore: anti-entropy rounds on every link. Tombstones are kept for good (a few hundred bytes,
// nothing personal): a region restored from a backup taken before a deletion gets the tombstone
// back from any peer, and holds identification until it has (resync-hold.ts). The list is re-read
// on reloadMembers() (`palmline cloud` calls it on SIGHUP): a region taken off it is cut off at
// once. It also answers for status and metrics.
import { Effect } from "effect";
import type { Clock, TimerHandle } from "../../core/clock.ts";
import { CloseCode, type IdentityKeyPair, type SecureChannel } from "../../protocol/index.ts";
import type { Sodium } from "../../protocol/sodium.ts";
import type { FederationKeys } from "./federation-keys.ts";
import { FederationMemberInvalid, loadFederationMembers, sameKey, type FederationMember, type FederationMembers } from "./federation-members.ts";
import { PeerDialer, type DialerState } from "./peer-dialer.ts";
import { PeerLink, type PeerLinkOptions } from "./peer-link.ts";
import { dataKeyOpenerFor, dataKeySealerFor } from "./sealed-data-key.ts";
import type { IdentityRegistryShape } from "../identity/identity-registry.ts";
import type { ResyncHold } from "./resync-hold.ts";

export const DEFAULT_ANTI_ENTROPY_EVERY_MS = 30_000;
/** How long the feed waits after a change for others to join it in one batch. */
export const FEED_COALESCE_MS = 20;
/** Feed observations kept for lag; past this they are thinned (lag may then read a little low). */
const MAX_OBSERVATIONS = 10_000;

export interface PeerStatus {
  readonly regionId: string;
  readonly connected: boolean;
  /** How far the peer has applied this region's feed. */
  readonly ackedSeq: number;
  /** How far this region has applied the peer's feed. */
  readonly appliedSeq: number;
  /** Age of the oldest local change the peer has not acknowledged; 0 when it has them all. */
  readonly lagMs: number;
}

export interface ReplicationStatus {
  readonly regionId: string;
  readonly digest: string;
  readonly live: number;
  readonly tombstones: number;
  readonly latestSeq: number;
  readonly peers: readonly PeerStatus[];
  /** Each listed peer with a URL and how dialling it goes. */
  readonly dialers: readonly DialerState[];
}

export interface RegionReplicationOptions {
  readonly regionId: string;
  readonly identity: IdentityKeyPair;
  readonly sodium: Sodium;
  /** The federation list (federation-members.ts); without one the region dials nobody and refuses region links. */
  readonly membersFile?: string;
  readonly registry: IdentityRegistryShape;
  /** Resolves once the shards have followed the registry up to a change number. */
  readonly indexed: (seq: number) => Promise<void>;
  /** Timers: feed coalescing, redials, chores. */
  readonly clock: Clock;
  /** The registry's wall time (its HLC follows it): what received stamps are judged against. */
  readonly registryNow: () => number;
  readonly log: (line: string) => void;
  readonly antiEntropyEveryMs?: number;
  /** The keys replicated writes are verified against: kept to the list as it is reloaded. */
  readonly keys?: FederationKeys;
  /** Held while this region, restored from a backup, has not re-synced with a peer. */
  readonly resync?: ResyncHold;
}

export class RegionReplication {
  readonly regionId: string;
  readonly #o: RegionReplicationOptions;
  readonly #links = new Map<string, PeerLink>();
  /** Every link, registered or not yet, so stop() can close them all. */
  readonly #allLinks = new Set<PeerLink>();
  readonly #dialers = new Map<string, PeerDialer>();
  #members: FederationMembers = new Map();
  readonly #openDataKey: (identityId: string, sealed: Uint8Array) => Uint8Array;
  /** A pump is scheduled: changes committed meanwhile go out with it. */
  #pumpQueued = false;
  #choreTimer: TimerHandle | undefined;
  #observations: { seq: number; atMs: number }[] = [];
  #stopped = false;

  constructor(options: RegionReplicationOptions) {
    this.#o = options;
    this.regionId = options.regionId;
    this.#openDataKey = dataKeyOpenerFor(options.sodium, options.identity);
    // Read at construction: a node with a list it cannot use does not start.
    if (options.membersFile !== undefined) this.#members = this.#checkedMembers(loadFederationMembers(options.membersFile));
    options.keys?.follow(this.#members);
  }

  get federated(): boolean {
    return this.#o.membersFile !== undefined;
  }

  /** Whether identification waits for a re-sync after a restore (resync-hold.ts). */
  get resyncing(): boolean {
    return this.#o.resync?.held ?? false;
  }

  start(): void {
    if (this.#members.size === 0 && this.#o.resync?.release()) {
      this.#o.log("replication: started as restored, with no peer region to re-sync from: identifying from the backup as it is");
    }
    if (!this.federated) return;
    const latest = Effect.runSync(this.#o.registry.latestSeq());
    if (latest > 0) this.#observations.push({ seq: latest, atMs: this.#o.clock.now() });
    this.#followMembers(new Map());
    this.#scheduleChores();
  }

  /**
   * Re-reads the federation list. A region taken off it (or listed with another key or URL now)
   * has its link closed and its dialer stopped at once; a new one is dialled. A list that does not
   * load leaves the one in force, and says why.
   */
  reloadMembers(): void {
    if (this.#stopped || this.#o.membersFile === undefined) return;
    let next: FederationMembers;
    try {
      next = this.#checkedMembers(loadFederationMembers(this.#o.membersFile));
    } catch (error) {
      this.#o.log(`replication: federation list not reloaded, the previous one stays: ${error instanceof Error ? error.message : String(error)}`);
      return;
    }
    const before = this.#members;
    this.#members = next;
    this.#o.keys?.follow(next);
    this.#followMembers(before);
    this.#o.log(`replication: federation list reloaded: ${[...next.keys()].join(", ") || "no peers"}`);
  }

  /** The list without this region's own entry, which must name this region's own key. */
  #checkedMembers(listed: FederationMembers): FederationMembers {
    const own = listed.get(this.regionId);
    if (own !== undefined && !sameKey(own.identityPublicKey, this.#o.identity.publicKey)) {
      throw new FederationMemberInvalid({ regionId: this.regionId, reason: "this region's own entry names another identity key than this region's" });
    }
    return new Map([...listed].filter(([regionId]) => regionId !== this.regionId));
  }

  /** Whether a region may link: listed, with this very key. */
  #admit(regionId: string, publicKey: Uint8Array): "member" | "not-listed" | "other-key" {
    const member = this.#members.get(regionId);
    if (member === undefined) return "not-listed";
    return sameKey(member.identityPublicKey, publicKey) ? "member" : "other-key";
  }

  /** Brings links and dialers in line with the list after it changed from `before`. */
  #followMembers(before: FederationMembers): void {
    const unchanged = (a: FederationMember | undefined, b: FederationMember | undefined) =>
      a !== undefined && b !== undefined && sameKey(a.identityPublicKey, b.identityPublicKey) && a.url === b.url;
    for (const [regionId, member] of before) {
      if (unchanged(member, this.#members.get(regionId))) continue;
      // Links first, so the peer reads why; then the dialer, which would close its channel as a shutdown.
      for (const link of this.#allLinks) {
        if (link.peerRegionId === regionId) link.close(CloseCode.NotFederationMember, `region ${regionId} was taken off the federation list or changed there`);
      }
      this.#dialers.get(regionId)?.stop();
      this.#dialers.delete(regionId);
    }
    for (const [regionId, member] of this.#members) {
      if (this.#dialers.has(regionId) || member.url === undefined) continue;
      const dialer = new PeerDialer({
        peer: { ...member, url: member.url },
        identity: this.#o.identity,
        clock: this.#o.clock,
        log: this.#o.log,
        openLink: (channel, peerRegionId) => this.#open(channel, "initiator", peerRegionId),
        servingLink: () => {
          const link = this.#links.get(regionId);
          return link?.isOpen === true ? link : undefined;
        },
      });
      this.#dialers.set(regionId, dialer);
      dialer.start();
    }
  }

  /** A channel a peer opened on /replication. */
  accept(channel: SecureChannel): void {
    if (this.#stopped) return channel.close(CloseCode.ServerShutdown, "region node shutting down");
    if (!this.federated) return channel.close(CloseCode.NotFederationMember, "this region belongs to no federation");
    this.#open(channel, "responder", undefined);
  }

  /** Starts an anti-entropy round on every open link now (otherwise every antiEntropyEveryMs). */
  antiEntropyNow(): void {
    for (const link of this.#links.values()) link.antiEntropy();
  }

  status(): ReplicationStatus {
    const { registry } = this.#o;
    return {
      regionId: this.regionId,
      digest: Effect.runSync(registry.digest()),
      live: Effect.runSync(registry.liveCount()),
      tombstones: Effect.runSync(registry.tombstoneCount()),
      latestSeq: Effect.runSync(registry.latestSeq()),
      peers: this.#peerStatuses(),
      dialers: [...this.#dialers.values()].map((d) => d.state()),
    };
  }

  /** Per listed peer, for palmline_replication_lag_seconds. */
  lagSeconds(): { peer: string; seconds: number }[] {
    return this.#peerStatuses().map((p) => ({ peer: p.regionId, seconds: p.lagMs / 1000 }));
  }

  async stop(): Promise<void> {
    this.#stopped = true;
    if (this.#choreTimer !== undefined) this.#o.clock.clearTimeout(this.#choreTimer);
    for (const dialer of this.#dialers.values()) dialer.stop();
    const links = [...this.#allLinks];
    for (const link of links) link.close(CloseCode.ServerShutdown, "region node shutting down");
    // Let a batch being applied finish before the database closes under it.
    await Promise.all(links.map((link) => link.idle));
  }

  #peerStatuses(): PeerStatus[] {
    const latest = Effect.runSync(this.#o.registry.latestSeq());
    const now = this.#o.clock.now();
    return this.#listedPeerStates().map((p) => ({
      regionId: p.regionId,
      connected: this.#links.get(p.regionId)?.isOpen === true,
      ackedSeq: p.ackedSeq,
      appliedSeq: p.appliedSeq,
      lagMs: p.ackedSeq >= latest ? 0 : now - (this.#observations.find((o) => o.seq > p.ackedSeq)?.atMs ?? now),
    }));
  }

  /** Progress of the peers on the list: a region taken off it is no longer reported or waited for. */
  #listedPeerStates() {
    return Effect.runSync(this.#o.registry.peerStates()).filter((p) => this.#members.has(p.regionId));
  }

  #open(channel: SecureChannel, role: "initiator" | "responder", peerRegionId: string | undefined): PeerLink {
    const options: PeerLinkOptions = {
      regionId: this.regionId,
      admit: (regionId, publicKey) => this.#admit(regionId, publicKey),
      sealDataKeysTo: (peerPublicKey) => dataKeySealerFor(this.#o.sodium, peerPublicKey),
      openDataKey: this.#openDataKey,
      registry: this.#o.registry,
      indexed: this.#o.indexed,
      clock: this.#o.clock,
      registryNow: this.#o.registryNow,
      log: this.#o.log,
      register: (link) => this.#register(link),
      restoreNoticed: (link) => {
        if (this.#o.resync?.hold(`${link.peerRegionId} holds more of this region's feed than it has`))
          this.#o.log(`replication: restored from a backup, by what ${link.peerRegionId} holds: no identification until re-synced`);
        link.antiEntropy();
      },
      inSync: (link) => {
        if (this.#o.resync?.release()) this.#o.log(`replication: re-synced with ${link.peerRegionId}: identifying again`);
      },
    };
    const link = new PeerLink(channel, role, options, peerRegionId);
    this.#allLinks.add(link);
    void link.closed.then(() => {
      this.#allLinks.delete(link);
      const id = link.peerRegionId;
      if (id !== undefined && this.#links.get(id) === link) this.#links.delete(id);
    });
    return link;
  }

  /**
   * One link per peer region. Both ends apply the same rule, so they keep the same link: the one
   * dialled by the region with the smaller id; between two of the same direction, the newer (the
   * older is most likely a connection the peer has already lost).
   */
  #register(link: PeerLink): boolean {
    if (this.#stopped) return false;
    const peer = link.peerRegionId!;
    const existing = this.#links.get(peer);
    if (existing !== undefined && existing !== link && existing.isOpen) {
      const preferred = this.regionId < peer ? "initiator" : "responder";
      if (link.role !== preferred && existing.role === preferred) return false;
      existing.close(CloseCode.DuplicatePeerLink, `replaced by a newer link with ${peer}`);
    }
    this.#links.set(peer, link);
    return true;
  }

  /**
   * The registry committed a change: the links send it (and whatever else is new) to their peers,
   * FEED_COALESCE_MS later, so the changes of a busy moment share a batch (and the peer's commit).
   */
  registryChanged(): void {
    if (this.#stopped || !this.federated || this.#pumpQueued) return;
    this.#pumpQueued = true;
    this.#o.clock.setTimeout(() => {
      this.#pumpQueued = false;
      if (this.#stopped) return;
      try {
        this.#observe();
        for (const link of this.#links.values()) link.pump();
      } catch (error) {
        this.#o.log(`replication: feed not sent: ${error instanceof Error ? error.message : String(error)}`);
      }
    }, FEED_COALESCE_MS);
  }

  #scheduleChores(): void {
    if (this.#stopped) return;
    this.#choreTimer = this.#o.clock.setTimeout(() => {
      this.#choreTimer = undefined;
      try {
        // Also what a writer outside this node's registry committed (an operator's tool): the
        // change stream only carries this node's own commits.
        this.registryChanged();
        this.antiEntropyNow();
      } catch (error) {
        this.#o.log(`replication: periodic anti-entropy failed: ${error instanceof Error ? error.message : String(error)}`);
      }
      this.#scheduleChores();
    }, this.#o.antiEntropyEveryMs ?? DEFAULT_ANTI_ENTROPY_EVERY_MS);
  }

  /** Notes when the feed moved, so each peer's lag is the age of the oldest change it lacks. */
  #observe(): void {
    const latest = Effect.runSync(this.#o.registry.latestSeq());
    const last = this.#observations.at(-1);
    if (last === undefined || latest > last.seq) this.#observations.push({ seq: latest, atMs: this.#o.clock.now() });
    const acked = this.#listedPeerStates().map((p) => p.ackedSeq);
    const floor = acked.length === 0 ? latest : Math.min(...acked);
    while (this.#observations.length > 1 && this.#observations[0]!.seq <= floor) this.#observations.shift();
    if (this.#observations.length > MAX_OBSERVATIONS) this.#observations = this.#observations.filter((_, i) => i % 2 === 0);
  }
}
