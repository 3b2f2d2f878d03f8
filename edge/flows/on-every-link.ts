// A request that survives a dropped link: sent on the current link, and when that link goes away
// before the answer, sent again on the next one (same request body, so a checkout's retry carries
// the same idempotency key) until the flow aborts.
import type { DeviceAgent } from "../device-agent.ts";
import { RegionUnavailable, type RegionLink } from "../region-link.ts";

/** Sends a request on the current link; a dropped link is retried on the next one until aborted. */
export const onEveryLink = async <T>(agent: DeviceAgent, signal: AbortSignal, request: (link: RegionLink) => Promise<T>): Promise<T> => {
  for (;;) {
    if (signal.aborted) throw new Error("cancelled");
    const link = await agent.online();
    try {
      return await request(link);
    } catch (error) {
      if (!(error instanceof RegionUnavailable) || signal.aborted) throw error;
    }
  }
};
