// Keeps one listed peer linked: opens the secure channel to <url>/replication insisting on the
// identity key the federation list names for that region (nothing is learned from the peer
// first), and hands the channel to a PeerLink. When the link ends it dials again after a backoff
// with jitter, on the injected clock; refusals that another attempt will not cure soon (not a
// member, key mismatch) wait longer. A duplicate-link refusal says another link with that peer
// serves: the dialer stands by while that link is open and dials again as soon as it closes, so a
// heal never waits out a long refusal delay.
import { WebSocket } from "ws";
import type { Clock, TimerHandle } from "../../core/clock.ts";
import { closeCodeName, CloseCode, DEFAULT_MAX_FRAME_BYTES, openInitiatorChannel, type IdentityKeyPair, type SecureChannel } from "../../protocol/index.ts";
import type { FederationMember } from "./federation-members.ts";
import type { PeerLink } from "./peer-link.ts";

export const RETRY_FIRST_MS = 250;
/**
 * Short on purpose, under a second: a region has a handful of peers, so redialling one that is
 * down a few times a second costs nothing, while a healed link must be back within a second of
 * the peer (jitter keeps each retry in [RETRY_MAX_MS / 2, RETRY_MAX_MS]).
 */
export const RETRY_MAX_MS = 800;
/** After a refusal that needs an operator to change something. */
export const RETRY_REFUSED_MS = 30_000;

const SLOW_RETRY_CODES: ReadonlySet<number> = new Set([CloseCode.NotFederationMember, CloseCode.PeerKeyMismatch]);

export interface DialerState {
  readonly url: string;
  readonly regionId: string;
  readonly state: "dialling" | "linked" | "waiting" | "stopped";
  /** The last reason the link ended or could not be made (close code name or error). */
  readonly lastError: string | undefined;
  readonly lastCloseCode: number | undefined;
}

export interface PeerDialerOptions {
  /** The peer as the federation list names it, with the URL to dial. */
  readonly peer: FederationMember & { readonly url: string };
  readonly identity: IdentityKeyPair;
  readonly clock: Clock;
  readonly log: (line: string) => void;
  readonly openLink: (channel: SecureChannel, peerRegionId: string) => PeerLink;
  /**
   * The other link with this peer that is open here, if one is: a duplicate-link refusal waits
   * for it to close instead of redialling. None known here (the peer holds one this side has lost)
   * means redialling on the ordinary backoff until the peer drops it.
   */
  readonly servingLink?: () => Pick<PeerLink, "closed"> | undefined;
  readonly random?: () => number;
}

export const replicationUrlOf = (wsUrl: string): string => `${wsUrl.replace(/\/+$/, "")}/replication`;

export class PeerDialer {
  readonly #o: PeerDialerOptions;
  readonly #random: () => number;
  #state: DialerState["state"] = "waiting";
  #lastError: string | undefined;
  #lastCloseCode: number | undefined;
  #failures = 0;
  #timer: TimerHandle | undefined;
  #link: PeerLink | undefined;
  #channel: SecureChannel | undefined;
  #stopped = false;

  constructor(options: PeerDialerOptions) {
    this.#o = options;
    this.#random = options.random ?? Math.random;
  }

  start(): void {
    this.#schedule(0);
  }

  state(): DialerState {
    const state = this.#link?.isOpen === true ? "linked" : this.#state;
    return { url: this.#o.peer.url, regionId: this.#o.peer.regionId, state, lastError: this.#lastError, lastCloseCode: this.#lastCloseCode };
  }

  stop(): void {
    this.#stopped = true;
    this.#state = "stopped";
    if (this.#timer !== undefined) this.#o.clock.clearTimeout(this.#timer);
    this.#timer = undefined;
    this.#channel?.close(CloseCode.ServerShutdown, "region node shutting down");
  }

  #schedule(delayMs: number): void {
    if (this.#stopped) return;
    this.#state = "waiting";
    this.#timer = this.#o.clock.setTimeout(() => {
      this.#timer = undefined;
      void this.#attempt();
    }, delayMs);
  }

  /** Exponential backoff with jitter: [d/2, d], so peers that lost each other do not redial in step. */
  #backoff(): number {
    const ceiling = Math.min(RETRY_MAX_MS, RETRY_FIRST_MS * 2 ** Math.min(this.#failures, 20));
    this.#failures++;
    return Math.round(ceiling * (0.5 + this.#random() * 0.5));
  }

  #slow(): number {
    return Math.round(RETRY_REFUSED_MS * (0.75 + this.#random() * 0.5));
  }

  async #attempt(): Promise<void> {
    if (this.#stopped) return;
    this.#state = "dialling";
    const { peer } = this.#o;
    let link: PeerLink;
    try {
      const socket = new WebSocket(replicationUrlOf(peer.url), { maxPayload: DEFAULT_MAX_FRAME_BYTES + 1 });
      const channel = await openInitiatorChannel(socket, { identity: this.#o.identity, pinnedResponderKey: peer.identityPublicKey, clock: this.#o.clock });
      this.#channel = channel;
      if (this.#stopped) return channel.close(CloseCode.ServerShutdown, "region node shutting down");
      link = this.#o.openLink(channel, peer.regionId);
    } catch (error) {
      const code = (error as { closeCode?: number }).closeCode;
      return this.#retry(error instanceof Error ? error.message : String(error), code);
    }
    this.#link = link;
    const closure = await link.closed;
    this.#link = undefined;
    this.#channel = undefined;
    if (this.#stopped) return;
    // A link that got as far as open has proven the peer reachable: start the backoff afresh.
    if (link.peerRegionId !== undefined && closure.code !== CloseCode.DuplicatePeerLink) this.#failures = 0;
    const reason = `${closeCodeName(closure.code) ?? closure.code}${closure.reason ? `: ${closure.reason}` : ""}`;
    this.#retry(`link closed (${reason})`, closure.code);
  }

  #retry(reason: string, code: number | undefined): void {
    this.#lastError = reason;
    this.#lastCloseCode = code;
    if (this.#stopped) return;
    const serving = code === CloseCode.DuplicatePeerLink ? this.#o.servingLink?.() : undefined;
    if (serving !== undefined) {
      this.#o.log(`replication: peer ${this.#o.peer.regionId}: ${reason}; the other link serves, dialling again once it closes`);
      this.#state = "waiting";
      void serving.closed.then(() => {
        if (this.#stopped || this.#timer !== undefined) return;
        // The peer was reachable a moment ago: dial as a fresh start, within RETRY_FIRST_MS.
        this.#failures = 0;
        this.#schedule(this.#backoff());
      });
      return;
    }
    const delayMs = code !== undefined && SLOW_RETRY_CODES.has(code) ? this.#slow() : this.#backoff();
    this.#o.log(`replication: peer ${this.#o.peer.regionId}: ${reason}; dialling again in ${delayMs} ms`);
    this.#schedule(delayMs);
  }
}
