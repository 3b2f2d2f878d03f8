// Runs a gate saga per entry request and spends ticket entries on reported passages.
import { createActor, fromPromise, toPromise } from "xstate";
import type { Clock } from "../../core/clock.ts";
import type { GateEntryRequest, GateEntryResult, GatePassage } from "../../protocol/index.ts";
import { decideEntry, type EntitlementBook } from "../entitlements/entitlement-book.ts";
import { gateSaga } from "./gate-saga.ts";
import { sagaActorOptions, type InspectHook } from "./saga-actor-options.ts";
import type { PalmLookup } from "./palm-lookup.ts";

export const RELAY_OPEN_MS = 4_000;

export class GateEntries {
  readonly #book: EntitlementBook;
  readonly #lookup: PalmLookup;
  readonly #clock: Clock;
  readonly #inspect: InspectHook | undefined;
  /** Entry requests answered "open", waiting for the gate's passage report (request id -> entitlement). */
  readonly #awaitingPassage = new Map<string, string>();

  constructor(options: { book: EntitlementBook; lookup: PalmLookup; clock: Clock; inspect?: InspectHook }) {
    this.#inspect = options.inspect;
    this.#book = options.book;
    this.#lookup = options.lookup;
    this.#clock = options.clock;
  }

  async enter(deviceId: string, request: GateEntryRequest): Promise<Omit<GateEntryResult, "type" | "requestId">> {
    const clock = this.#clock;
    const machine = gateSaga.provide({
      actors: {
        identify: fromPromise(async () => this.#lookup(request.sealedSignature, { deviceId, purpose: "gate", stepUpToken: request.stepUpToken })),
        checkEntitlement: fromPromise(async ({ input }) => decideEntry(this.#book.forIdentity(input.identityId, request.venueId), clock.now())),
      },
    });
    const actor = createActor(machine, sagaActorOptions(clock, this.#inspect, `gate:${request.requestId}`));
    actor.start();
    const output = await toPromise(actor);
    if (output.outcome === "no-match") return { outcome: "no-match" };
    if (output.outcome === "step-up-required") return { outcome: "step-up-required", stepUpToken: output.token };
    if (output.outcome === "denied")
      return { outcome: "denied", ...(output.identityId !== undefined ? { identityId: output.identityId } : {}), reason: output.reason };
    const e = output.decision.entitlement;
    this.#awaitingPassage.set(`${deviceId}:${request.requestId}`, e.entitlementId);
    return {
      outcome: "open",
      identityId: output.identityId,
      entitlement: { kind: e.kind, label: e.label, validUntil: e.validUntil },
      openForMs: RELAY_OPEN_MS,
    };
  }

  passage(deviceId: string, report: GatePassage): void {
    const key = `${deviceId}:${report.requestId}`;
    const entitlementId = this.#awaitingPassage.get(key);
    this.#awaitingPassage.delete(key);
    if (entitlementId !== undefined && report.passed) this.#book.recordEntry(entitlementId);
  }
}
