// The flow tests' store: a simulated region (cli/simulated-region.ts) named "flows", and the test
// cards and hands the tests speak in.
import { startSimulatedRegion, type SimulatedRegion, type SimulatedRegionOptions } from "../../cli/simulated-region.ts";
import type { SimulatedHand } from "../../hardware/simulated-palm-sensor.ts";

/** Test PANs (Luhn-valid); 4000000000000002 is declined by the simulator. */
export const TEST_PANS = { visa: "4242424242424242", declined: "4000000000000002", mastercard: "5555555555554444" } as const;

export const hand = (subjectSeed: number): SimulatedHand => ({ subjectSeed, side: "right" });

export const startStore = (options: SimulatedRegionOptions = {}) => startSimulatedRegion({ regionId: "flows", ...options });

export type Store = SimulatedRegion;
