// What "the device keeps nothing personal" means, as a check: no secret of the person appears in
// any actor snapshot (contexts serialised, bytes included) or in any file under the device's
// state directory, and that directory holds only the device's own credentials.
import { readdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import type { AnyActorRef } from "xstate";

const serialise = (value: unknown) =>
  JSON.stringify(value, (_key, v: unknown) => (v instanceof Uint8Array ? Buffer.from(v).toString("hex") : typeof v === "function" ? undefined : v));

export const personalDataLeft = (actors: readonly AnyActorRef[], stateDir: string, secrets: readonly string[]): string[] => {
  const found: string[] = [];
  for (const actor of actors) {
    const text = serialise((actor.getSnapshot() as { context?: unknown }).context);
    for (const s of secrets) if (text.includes(s)) found.push(`snapshot of ${actor.id} holds ${s}`);
    const sealed = /"sealed(Captures)?":"[0-9a-f]+"|"sealed":\["/.test(text);
    if (sealed) found.push(`snapshot of ${actor.id} still holds sealed captures`);
  }
  const files = readdirSync(stateDir);
  for (const f of files) {
    if (f !== "device.json") found.push(`unexpected file ${f}`);
    const text = readFileSync(join(stateDir, f), "utf8");
    for (const s of secrets) if (text.includes(s)) found.push(`${f} holds ${s}`);
  }
  return found;
};
