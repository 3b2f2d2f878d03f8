// The bearer tokens that guard an HTTP surface (the operator API, the inspector, /metrics): how
// one is made and how a request's Authorization header is checked against it. The comparison is
// constant-time so the answer's timing says nothing about how much of a guess was right.
import { randomBytes, timingSafeEqual } from "node:crypto";
import type { IncomingMessage } from "node:http";

/** A fresh token: 32 random bytes, base64url (no character a header or a URL fragment must escape). */
export const newBearerToken = (): string => randomBytes(32).toString("base64url");

/** Whether the request carries `Authorization: Bearer <token>`. */
export const carriesBearerToken = (req: IncomingMessage, token: string): boolean => {
  const given = Buffer.from(req.headers.authorization ?? "");
  const expected = Buffer.from(`Bearer ${token}`);
  return given.length === expected.length && timingSafeEqual(given, expected);
};
