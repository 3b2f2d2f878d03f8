// Identifiers. Random, opaque, URL-safe; a prefix says what kind of thing an id names so that a
// log line or a database row can be read without context.
import { randomBytes } from "node:crypto";

export type IdentityId = string & { readonly __brand: "IdentityId" };
export type DeviceId = string & { readonly __brand: "DeviceId" };
export type RegionId = string & { readonly __brand: "RegionId" };
export type RequestId = string & { readonly __brand: "RequestId" };

const token = (bytes: number) => randomBytes(bytes).toString("base64url");

export const newIdentityId = (): IdentityId => `id_${token(12)}` as IdentityId;
export const newRequestId = (): RequestId => `rq_${token(9)}` as RequestId;
export const deviceIdFromPublicKey = (publicKey: Uint8Array): DeviceId => `dev_${Buffer.from(publicKey.subarray(0, 12)).toString("base64url")}` as DeviceId;
