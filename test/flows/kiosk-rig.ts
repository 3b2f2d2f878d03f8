// A kiosk with simulated card reader, keypad, display and palm sensor on a real device agent.
import { ManualClock } from "../../core/clock.ts";
import { EnrollmentKiosk } from "../../edge/flows/enrollment-kiosk.ts";
import { whenState } from "../../edge/flows/flow-driver.ts";
import { CardVaultClient } from "../../edge/payments/card-vault-client.ts";
import { SimulatedCardReader } from "../../hardware/card-reader.ts";
import { SimulatedDisplay } from "../../hardware/display.ts";
import { SimulatedKeypad } from "../../hardware/keypad.ts";
import { SimulatedPalmSensor } from "../../hardware/simulated-palm-sensor.ts";
import type { Store } from "./store-harness.ts";


export const kioskRig = async (store: Store, name: string, clock: ManualClock) => {
  const { agent, stateDir } = await store.device(name, undefined, clock);
  const sensor = new SimulatedPalmSensor({ seed: 77 + name.length });
  const cardReader = new SimulatedCardReader();
  const keypad = new SimulatedKeypad();
  const display = new SimulatedDisplay();
  const kiosk = new EnrollmentKiosk({ agent, sensor, extractor: store.extractor, cardReader, keypad, display, vault: new CardVaultClient(store.processor.url) });
  return {
    kiosk,
    agent,
    stateDir,
    sensor,
    cardReader,
    keypad,
    display,
    clock,
    reach: (state: string) => whenState(kiosk.actor, state),
    stop: () => {
      kiosk.stop();
      agent.stop();
    },
  };
};

export type KioskRig = Awaited<ReturnType<typeof kioskRig>>;
