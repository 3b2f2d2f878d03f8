// How long an identity lives without being used: two years after its last interaction
// (identification, payment, gate entry, in any region) it is deleted like a requested deletion.
// Years of 365.25 days, so a leap year never makes an identity expire a day early.
export const EXPIRY_MS = 2 * 365.25 * 24 * 60 * 60 * 1000;

/** The moment an identity last seen at `lastSeenMs` expires, if nobody uses it before then. */
export const expiresAt = (lastSeenMs: number): number => lastSeenMs + EXPIRY_MS;

/** Last-seen at or before this moment means expired at `nowMs`. */
export const expiryCutoff = (nowMs: number): number => nowMs - EXPIRY_MS;
