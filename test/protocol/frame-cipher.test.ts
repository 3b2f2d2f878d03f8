import { describe, expect, test } from "vitest";
import { ManualClock } from "../../core/clock.ts";
import {
  ForgedFrame,
  FrameKind,
  FrameOpener,
  FrameSealer,
  OversizedFrame,
  ReorderedFrame,
  ReplayedFrame,
  TRANSPORT_OVERHEAD_BYTES,
  TruncatedFrame,
} from "../../protocol/index.ts";
import { loadSodium } from "../../protocol/sodium.ts";

const sodium = await loadSodium();

const pair = (policy = { afterFrames: 1_000_000, afterMs: 15 * 60_000 }, clock = new ManualClock()) => {
  const key = sodium.randombytes_buf(32);
  return { sealer: new FrameSealer(sodium, key.slice(), clock, policy), opener: new FrameOpener(sodium, key.slice(), 4096), clock };
};
const text = (s: string) => new TextEncoder().encode(s);

describe("frame cipher", () => {
  test("adds exactly 25 bytes to a message", () => {
    const { sealer } = pair();
    expect(TRANSPORT_OVERHEAD_BYTES).toBe(25);
    expect(sealer.seal(FrameKind.Data, text("hello")).byteLength).toBe(5 + 25);
  });

  test("opens frames in order", () => {
    const { sealer, opener } = pair();
    for (const word of ["a", "bb", "ccc"]) {
      expect(new TextDecoder().decode(opener.open(sealer.seal(FrameKind.Data, text(word))).plaintext)).toBe(word);
    }
  });

  test("rejects a frame seen before as ReplayedFrame", () => {
    const { sealer, opener } = pair();
    const frame = sealer.seal(FrameKind.Data, text("pay 10"));
    opener.open(frame);
    expect(() => opener.open(frame)).toThrow(ReplayedFrame);
  });

  test("rejects a frame from the future as ReorderedFrame", () => {
    const { sealer, opener } = pair();
    sealer.seal(FrameKind.Data, text("dropped"));
    expect(() => opener.open(sealer.seal(FrameKind.Data, text("next")))).toThrow(ReorderedFrame);
  });

  test("rejects a forged counter as ForgedFrame, not as a replay", () => {
    const { sealer, opener } = pair();
    opener.open(sealer.seal(FrameKind.Data, text("one")));
    const frame = sealer.seal(FrameKind.Data, text("two"));
    frame[4] = 0; // counter 1 -> 0: looks like a replay, but the header is authenticated
    expect(() => opener.open(frame)).toThrow(ForgedFrame);
  });

  test("rejects a frame whose length field promises more bytes as TruncatedFrame", () => {
    const { sealer, opener } = pair();
    const frame = sealer.seal(FrameKind.Data, text("hello world"));
    expect(() => opener.open(frame.subarray(0, frame.length - 1))).toThrow(TruncatedFrame);
  });

  test("rejects a frame over the limit as OversizedFrame", () => {
    const { sealer, opener } = pair();
    expect(() => opener.open(sealer.seal(FrameKind.Data, new Uint8Array(5000)))).toThrow(OversizedFrame);
  });

  test("asks for a new key after the configured number of frames", () => {
    const { sealer } = pair({ afterFrames: 3, afterMs: Infinity });
    for (let i = 0; i < 3; i++) {
      expect(sealer.needsRekey()).toBe(false);
      sealer.seal(FrameKind.Data, text("x"));
    }
    expect(sealer.needsRekey()).toBe(true);
  });

  test("asks for a new key after the configured time", () => {
    const { sealer, clock } = pair({ afterFrames: Infinity, afterMs: 60_000 });
    clock.advance(59_999);
    expect(sealer.needsRekey()).toBe(false);
    clock.advance(1);
    expect(sealer.needsRekey()).toBe(true);
  });

  test("after a rekey frames keep flowing and counters restart", () => {
    const { sealer, opener } = pair();
    opener.open(sealer.seal(FrameKind.Data, text("before")));
    opener.open(sealer.sealRekey());
    const after = sealer.seal(FrameKind.Data, text("after"));
    expect(new DataView(after.buffer).getUint32(1)).toBe(0);
    expect(new TextDecoder().decode(opener.open(after).plaintext)).toBe("after");
    expect(sealer.rekeys).toBe(1);
  });

  test("a frame from before a rekey no longer authenticates", () => {
    const { sealer, opener } = pair();
    const old = sealer.seal(FrameKind.Data, text("old"));
    opener.open(old);
    opener.open(sealer.sealRekey());
    expect(() => opener.open(old)).toThrow(ForgedFrame);
  });
});
