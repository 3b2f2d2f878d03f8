// Collects XState inspection events from every actor it is given to (pass `hub.inspect` as the
// `inspect` option of createActor) and keeps, per live actor: where it sits in the tree, its
// statechart, its current state, its context with sensitive fields redacted, and a timeline of
// the events it received. The inspector server reads from here and sends events through here.
import type { ActorRefLike, AnyStateMachine, InspectionEvent } from "xstate";

/** What the hub reads of an actor; XState's public ref type leaves these fields out. */
type InspectableRef = ActorRefLike & {
  readonly sessionId: string;
  readonly id: string;
  readonly systemId?: string | undefined;
  readonly _parent?: InspectableRef;
  readonly logic?: unknown;
};
import { redactForInspection } from "./redaction.ts";
import { acceptedEvents, describeMachine, type StatechartNode } from "./statechart.ts";

export type ActorGroup = "system" | "sessions" | "shards" | "sagas" | "devices";
/** The region's actors: watched, never driven, from the inspector. */
const REGION_GROUPS: ReadonlySet<ActorGroup> = new Set(["sessions", "shards", "sagas"]);

export interface TimelineEntry {
  readonly at: number;
  readonly type: string;
  readonly source: string | undefined;
  readonly payload: unknown;
}

/** A host-provided action on an actor, e.g. "present a simulated hand" on a scanner agent. */
export interface ActorCommand {
  readonly name: string;
  readonly label: string;
  readonly fields: readonly { readonly name: string; readonly kind: "number" | "text"; readonly initial: string }[];
  readonly run: (values: Readonly<Record<string, string>>) => void | Promise<void>;
}

export interface InspectedActorView {
  readonly sessionId: string;
  readonly name: string;
  readonly group: ActorGroup;
  readonly parentSessionId: string | undefined;
  readonly status: string;
  readonly value: unknown;
  readonly context: unknown;
  readonly statechart: StatechartNode | undefined;
  readonly acceptedEvents: readonly string[];
  readonly commands: readonly { readonly name: string; readonly label: string; readonly fields: ActorCommand["fields"] }[];
  readonly timeline: readonly TimelineEntry[];
}

interface InspectedActor {
  readonly ref: InspectableRef;
  /** Set when the actor was registered with a group or inherits its parent's. */
  readonly group: ActorGroup | undefined;
  readonly parentSessionId: string | undefined;
  readonly statechart: StatechartNode | undefined;
  readonly acceptedEvents: readonly string[];
  status: string;
  value: unknown;
  context: unknown;
  timeline: TimelineEntry[];
}

const TIMELINE_LENGTH = 100;
/** Finished top-level actors (a saga that completed, a closed session) kept for a look afterwards. */
const FINISHED_KEPT = 25;
const GROUP_PREFIXES: readonly [string, ActorGroup][] = [
  ["device:", "devices"],
  ["session:", "sessions"],
  ["shard:", "shards"],
  ["saga:", "sagas"],
];

const isMachine = (logic: unknown): logic is AnyStateMachine => typeof logic === "object" && logic !== null && "root" in logic && "config" in logic;

const parentOf = (ref: InspectableRef): InspectableRef | undefined => ref._parent;

export class InspectionHub {
  readonly #actors = new Map<string, InspectedActor>();
  readonly #finished: string[] = [];
  readonly #commands = new Map<string, ActorCommand[]>();
  readonly #listeners = new Set<(sessionId: string) => void>();
  readonly #now: () => number;

  constructor(now: () => number = Date.now) {
    this.#now = now;
  }

  /** Give this to createActor's `inspect` option; the actor is listed under its systemId's prefix. */
  readonly inspect = (event: InspectionEvent): void => this.#observe(event, undefined);

  /** Like `inspect`, listing the root actor (and so its children) under `group`. */
  inspectAs(group: ActorGroup): (event: InspectionEvent) => void {
    return (event) => this.#observe(event, group);
  }

  #observe(event: InspectionEvent, group: ActorGroup | undefined): void {
    const ref = event.actorRef as InspectableRef;
    switch (event.type) {
      case "@xstate.actor":
        this.#register(ref, group);
        break;
      case "@xstate.event": {
        const actor = this.#actors.get(ref.sessionId);
        if (actor === undefined) break;
        const { type, ...payload } = event.event;
        actor.timeline.push({ at: this.#now(), type, source: event.sourceRef?.sessionId, payload: redactForInspection(payload) });
        if (actor.timeline.length > TIMELINE_LENGTH) actor.timeline.splice(0, actor.timeline.length - TIMELINE_LENGTH);
        this.#changed(ref.sessionId);
        break;
      }
      case "@xstate.snapshot": {
        const actor = this.#actors.get(ref.sessionId) ?? this.#register(ref, group);
        const snapshot = event.snapshot as { status?: string; value?: unknown; context?: unknown };
        actor.status = snapshot.status ?? "active";
        actor.value = snapshot.value;
        actor.context = redactForInspection(snapshot.context);
        // A finished child (an invoked promise) has nothing more to show; its parent's timeline
        // keeps what it returned.
        if (actor.status === "stopped" || (actor.status !== "active" && actor.parentSessionId !== undefined)) {
          this.#actors.delete(ref.sessionId);
        } else if (actor.status !== "active" && !this.#finished.includes(ref.sessionId)) {
          this.#finished.push(ref.sessionId);
          while (this.#finished.length > FINISHED_KEPT) this.#actors.delete(this.#finished.shift()!);
        }
        this.#changed(ref.sessionId);
        break;
      }
      default:
        break;
    }
  }

  /** Offers a host action on the actor whose systemId is `systemId`. */
  addCommand(systemId: string, command: ActorCommand): void {
    const list = this.#commands.get(systemId) ?? [];
    list.push(command);
    this.#commands.set(systemId, list);
  }

  actors(): InspectedActorView[] {
    return [...this.#actors.entries()].map(([sessionId, a]) => ({
      sessionId,
      name: this.#nameOf(a),
      group: this.#groupOf(a),
      parentSessionId: a.parentSessionId,
      status: a.status,
      value: a.value,
      context: a.context,
      statechart: a.statechart,
      acceptedEvents: a.acceptedEvents,
      commands: (this.#commands.get(this.#nameOf(a)) ?? []).map(({ name, label, fields }) => ({ name, label, fields })),
      timeline: a.timeline,
    }));
  }

  /**
   * Sends an event to a live actor; false if there is no such actor or event type, or if it is one
   * of the region's own (a device session, a saga, a shard): only the protocol moves those, never
   * the inspector (an event could admit a device or settle a payment).
   */
  send(sessionId: string, event: { type: string } & Record<string, unknown>): boolean {
    const actor = this.#actors.get(sessionId);
    if (actor === undefined || !actor.acceptedEvents.includes(event.type)) return false;
    if (REGION_GROUPS.has(this.#groupOf(actor))) return false;
    actor.ref.send(event);
    return true;
  }

  async runCommand(sessionId: string, name: string, values: Readonly<Record<string, string>>): Promise<boolean> {
    const actor = this.#actors.get(sessionId);
    const command = actor === undefined ? undefined : this.#commands.get(this.#nameOf(actor))?.find((c) => c.name === name);
    if (command === undefined) return false;
    await command.run(values);
    return true;
  }

  subscribe(listener: (sessionId: string) => void): () => void {
    this.#listeners.add(listener);
    return () => this.#listeners.delete(listener);
  }

  #register(ref: InspectableRef, requestedGroup: ActorGroup | undefined): InspectedActor {
    const existing = this.#actors.get(ref.sessionId);
    if (existing !== undefined) return existing;
    const parent = parentOf(ref);
    const parentActor = parent === undefined ? undefined : this.#actors.get(parent.sessionId);
    const logic = ref.logic;
    const actor: InspectedActor = {
      ref,
      group: parentActor !== undefined ? this.#groupOf(parentActor) : requestedGroup,
      parentSessionId: parent?.sessionId,
      statechart: isMachine(logic) ? describeMachine(logic) : undefined,
      acceptedEvents: isMachine(logic) ? acceptedEvents(logic) : [],
      status: "active",
      value: undefined,
      context: undefined,
      timeline: [],
    };
    this.#actors.set(ref.sessionId, actor);
    this.#changed(ref.sessionId);
    return actor;
  }

  // XState assigns systemId after announcing the actor, so names are read when shown.
  #nameOf(actor: InspectedActor): string {
    return actor.ref.systemId ?? actor.ref.id;
  }

  #groupOf(actor: InspectedActor): ActorGroup {
    if (actor.group !== undefined) return actor.group;
    const name = this.#nameOf(actor);
    return GROUP_PREFIXES.find(([prefix]) => name.startsWith(prefix))?.[1] ?? "system";
  }

  #changed(sessionId: string): void {
    for (const listener of this.#listeners) listener(sessionId);
  }
}
