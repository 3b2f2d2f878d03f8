// A machine's states and transitions as plain data the inspector page can draw: nested state
// boxes with the events each one handles, and the events the actor accepts right now.
import type { AnyStateMachine, AnyStateNode } from "xstate";

export interface StatechartNode {
  readonly id: string;
  readonly key: string;
  readonly type: string;
  readonly initial: string | undefined;
  readonly transitions: readonly { readonly event: string; readonly targets: readonly string[] }[];
  readonly delays: readonly string[];
  readonly children: readonly StatechartNode[];
}

const describeNode = (node: AnyStateNode): StatechartNode => {
  const transitions: { event: string; targets: string[] }[] = [];
  const delays: string[] = [];
  for (const [event, list] of node.transitions) {
    const targets = list.flatMap((t: { target?: readonly AnyStateNode[] | undefined }) => (t.target ?? []).map((s) => s.key));
    if (event.startsWith("xstate.after.")) delays.push(event.replace(/^xstate\.after\.([^.]+)\..*$/, "$1"));
    // An invoked actor finishing or failing is drawn as "done" / "error", the way people say it.
    else if (event.startsWith("xstate.done.actor.")) transitions.push({ event: "done", targets: [...new Set(targets)] });
    else if (event.startsWith("xstate.error.actor.")) transitions.push({ event: "error", targets: [...new Set(targets)] });
    else if (!event.startsWith("xstate.")) transitions.push({ event, targets: [...new Set(targets)] });
  }
  const initial = node.initial?.target?.[0]?.key;
  return {
    id: node.id,
    key: node.key,
    type: node.type,
    initial,
    transitions,
    delays,
    children: Object.values(node.states as Record<string, AnyStateNode>).map(describeNode),
  };
};

export const describeMachine = (machine: AnyStateMachine): StatechartNode => describeNode(machine.root);

/** Event types the machine handles anywhere, for the page's "send event" form. */
export const acceptedEvents = (machine: AnyStateMachine): string[] =>
  [...new Set((machine.root.events as string[]).filter((e) => !e.startsWith("xstate.") && e !== "*"))].sort();
