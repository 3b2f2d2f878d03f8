// The federation's members: the operator's list of region ids and the Ed25519 identity key each
// region authenticates with, optionally with the URL to dial it at. It is the only thing that
// admits a region link: nothing is learned from the network. The file holds public keys only, so
// others may read it; a file others could write (or swap) is refused, since whoever edits it
// decides who receives the registry. Every region of a federation may keep the same file, its
// own entry included (a region checks that entry names its own key and never dials itself).
//
//   { "regions": { "eu": { "identityPublicKey": "<base64, 32 bytes>", "url": "ws://eu.example:7400" } } }
import { closeSync, fsyncSync, openSync, readFileSync, renameSync, statSync, writeSync } from "node:fs";
import { Data } from "effect";

export const IDENTITY_PUBLIC_KEY_BYTES = 32;
const MAX_REGION_ID_LENGTH = 64;

export interface FederationMember {
  readonly regionId: string;
  readonly identityPublicKey: Uint8Array;
  /** Where to dial it; a member without one only dials in. */
  readonly url?: string;
}

export type FederationMembers = ReadonlyMap<string, FederationMember>;

export class FederationMembersUnreadable extends Data.TaggedError("FederationMembersUnreadable")<{ readonly path: string; readonly reason: string }> {
  override get message() {
    return `federation members file ${this.path}: ${this.reason}`;
  }
}

export class FederationMemberInvalid extends Data.TaggedError("FederationMemberInvalid")<{ readonly regionId: string; readonly reason: string }> {
  override get message() {
    return `federation member "${this.regionId}": ${this.reason}`;
  }
}

const isRegionUrl = (url: string) => /^wss?:\/\/[^/]+\/?$/.test(url) && URL.canParse(url);

/** A member checked as the file must hold it: a region id, a 32-byte key in canonical base64, a ws:// or wss:// URL. */
export const federationMember = (regionId: string, identityPublicKeyBase64: string, url?: string): FederationMember => {
  if (regionId.length === 0 || regionId.length > MAX_REGION_ID_LENGTH)
    throw new FederationMemberInvalid({ regionId, reason: `a region id is 1 to ${MAX_REGION_ID_LENGTH} characters` });
  const key = new Uint8Array(Buffer.from(identityPublicKeyBase64, "base64"));
  if (key.byteLength !== IDENTITY_PUBLIC_KEY_BYTES || Buffer.from(key).toString("base64") !== identityPublicKeyBase64)
    throw new FederationMemberInvalid({
      regionId,
      reason: `identity key is not ${IDENTITY_PUBLIC_KEY_BYTES} bytes of base64 (the "identityPublicKey" of the region's listening line)`,
    });
  if (url !== undefined && !isRegionUrl(url))
    throw new FederationMemberInvalid({ regionId, reason: `url must be a region's ws:// or wss:// URL, got "${url}"` });
  return { regionId, identityPublicKey: key, ...(url !== undefined ? { url } : {}) };
};

/** Reads the list; a missing file, a file others can write, or any entry that does not check out is refused whole. */
export const loadFederationMembers = (path: string): FederationMembers => {
  let text: string;
  let mode: number;
  try {
    const stat = statSync(path);
    if (!stat.isFile()) throw new FederationMembersUnreadable({ path, reason: "not a regular file" });
    mode = stat.mode;
    text = readFileSync(path, "utf8");
  } catch (cause) {
    if (cause instanceof FederationMembersUnreadable) throw cause;
    throw new FederationMembersUnreadable({ path, reason: (cause as NodeJS.ErrnoException).code === "ENOENT" ? "no such file" : (cause as Error).message });
  }
  if ((mode & 0o022) !== 0) throw new FederationMembersUnreadable({ path, reason: `mode ${(mode & 0o777).toString(8)} lets others change it (chmod 644)` });
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch (cause) {
    throw new FederationMembersUnreadable({ path, reason: `not JSON: ${(cause as Error).message}` });
  }
  const regions = (parsed as { regions?: unknown } | null)?.regions;
  if (typeof regions !== "object" || regions === null || Array.isArray(regions))
    throw new FederationMembersUnreadable({ path, reason: 'expected { "regions": { "<region id>": { "identityPublicKey": "...", "url": "..." } } }' });
  const members = new Map<string, FederationMember>();
  for (const [regionId, entry] of Object.entries(regions as Record<string, unknown>)) {
    const { identityPublicKey, url } = (entry ?? {}) as { identityPublicKey?: unknown; url?: unknown };
    if (typeof identityPublicKey !== "string" || (url !== undefined && typeof url !== "string"))
      throw new FederationMembersUnreadable({ path, reason: `region "${regionId}" needs an identityPublicKey string and at most a url string` });
    try {
      members.set(regionId, federationMember(regionId, identityPublicKey, url));
    } catch (error) {
      throw new FederationMembersUnreadable({ path, reason: (error as Error).message });
    }
  }
  return members;
};

/** Replaces the file at once (write, fsync, rename): a node re-reading it never sees half a list. Mode 0644. */
export const saveFederationMembers = (path: string, members: FederationMembers): void => {
  const regions: Record<string, { identityPublicKey: string; url?: string }> = {};
  for (const m of [...members.values()].sort((a, b) => (a.regionId < b.regionId ? -1 : a.regionId > b.regionId ? 1 : 0))) {
    regions[m.regionId] = { identityPublicKey: Buffer.from(m.identityPublicKey).toString("base64"), ...(m.url !== undefined ? { url: m.url } : {}) };
  }
  const temporary = `${path}.${process.pid}.tmp`;
  const fd = openSync(temporary, "w", 0o644);
  try {
    writeSync(fd, `${JSON.stringify({ regions }, null, 2)}\n`);
    fsyncSync(fd);
  } finally {
    closeSync(fd);
  }
  renameSync(temporary, path);
};

/** The list as it stands in a file, or an empty one where there is no file yet (the first `add`). */
export const loadFederationMembersOrEmpty = (path: string): FederationMembers => {
  try {
    statSync(path);
  } catch (cause) {
    if ((cause as NodeJS.ErrnoException).code === "ENOENT") return new Map();
  }
  return loadFederationMembers(path);
};

export const sameKey = (a: Uint8Array, b: Uint8Array): boolean => Buffer.from(a).equals(Buffer.from(b));
