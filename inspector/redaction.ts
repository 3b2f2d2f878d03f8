// What the inspector may show of an actor's context. Biometric and card material never leaves
// the process through it: fields whose names say they hold such data are replaced, and raw bytes
// are shown only as their length.
const SENSITIVE_FIELD = /signature|sealed|template|biometric|pixel|image|frame\b|^pan$|card|cvv|phone|token|secret|privatekey|datakey/i;
const MAX_DEPTH = 6;
const MAX_ITEMS = 50;

export const REDACTED = "[redacted]";

export const redactForInspection = (value: unknown, depth = 0): unknown => {
  if (value === null || value === undefined) return value;
  if (typeof value === "string" || typeof value === "number" || typeof value === "boolean") return value;
  if (typeof value === "bigint") return value.toString();
  if (typeof value === "function" || typeof value === "symbol") return undefined;
  if (ArrayBuffer.isView(value)) return `[${value.byteLength} bytes]`;
  if (depth >= MAX_DEPTH) return "[…]";
  if (Array.isArray(value)) {
    const shown = value.slice(0, MAX_ITEMS).map((v) => redactForInspection(v, depth + 1));
    return value.length > MAX_ITEMS ? [...shown, `[${value.length - MAX_ITEMS} more]`] : shown;
  }
  if (value instanceof Map) return redactForInspection(Object.fromEntries(value), depth);
  if (value instanceof Set) return redactForInspection([...value], depth);
  if (value instanceof Date) return value.toISOString();
  // Actor references and other live objects: show what they are, not their internals.
  if (typeof value === "object" && "sessionId" in value && "send" in value) return `[actor ${String((value as { id?: unknown }).id ?? "")}]`;
  const out: Record<string, unknown> = {};
  for (const [key, field] of Object.entries(value as Record<string, unknown>)) {
    out[key] = SENSITIVE_FIELD.test(key)
      ? field === undefined || (Array.isArray(field) && field.length === 0)
        ? field
        : REDACTED
      : redactForInspection(field, depth + 1);
  }
  return out;
};
