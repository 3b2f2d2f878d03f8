// The business flows a device session can reach, grouped so the session (and the server that
// creates sessions) depend on one thing, and built here from the node's storage and index. A
// node without a payment processor still identifies, enrolls without a card and runs gates.
import { Effect } from "effect";
import type { Clock } from "../../core/clock.ts";
import type { TemplateKeyPair } from "../../protocol/index.ts";
import { EntitlementBook } from "../entitlements/entitlement-book.ts";
import type { PalmIdentifier } from "../identification/palm-identifier.ts";
import { HttpProcessorAdapter } from "../payments/http-processor-adapter.ts";
import { ProcessorUnavailable, type ProcessorAdapter } from "../payments/processor-adapter.ts";
import { PhoneVerifier, type SmsGateway } from "../phone/phone-verifier.ts";
import type { IdentityRegistryShape } from "../identity/identity-registry.ts";
import type { RegistryFollower } from "../shards/registry-follower.ts";
import type { PaymentLedger } from "../storage/sqlite/payment-ledger.ts";
import { ClosingPaymentLedger } from "../lifecycle/closing-payment-ledger.ts";
import { DeletionAcknowledgement } from "../lifecycle/deletion-acknowledgement.ts";
import { DeletionRegisters } from "../lifecycle/deletion-registers.ts";
import { Deletions } from "../sagas/deletions.ts";
import { KioskEnrollments } from "../sagas/kiosk-enrollments.ts";
import { GateEntries } from "../sagas/gate-entries.ts";
import { LogSmsGateway } from "../portal/log-sms-gateway.ts";
import { palmLookup } from "../sagas/palm-lookup.ts";
import { Payments } from "../sagas/payments.ts";
import { StepUpChallenges } from "../sagas/step-up-challenges.ts";
import { ProbeGuard } from "./probe-guard.ts";
import type { RateLimit } from "../../protocol/token-bucket.ts";
import type { InspectHook } from "../sagas/saga-actor-options.ts";

export interface RegionServices {
  readonly enrollment: KioskEnrollments;
  readonly payments: Payments;
  readonly gates: GateEntries;
  readonly deletions: Deletions;
  readonly phones: PhoneVerifier;
  /** The identity registry, the one owner of identity state. */
  readonly registry: IdentityRegistryShape;
  readonly entitlements: EntitlementBook;
  readonly ledger: PaymentLedger;
  readonly sms: SmsGateway;
  /** Step-ups asked of devices and not yet settled. */
  readonly stepUps: StepUpChallenges;
  /** Per-device limit on unrecognised palms and failed step-ups. */
  readonly probes: ProbeGuard;
}

export interface RegionServicesOptions {
  readonly registry: IdentityRegistryShape;
  /** The region's payment ledger (cloud/storage/sqlite/payment-ledger.ts), in the region database. */
  readonly ledger: ConstructorParameters<typeof ClosingPaymentLedger>[0];
  readonly identifier: PalmIdentifier;
  /** The shards' follower of the registry (deletions wait for it). */
  readonly index: RegistryFollower;
  readonly templateKeys: TemplateKeyPair;
  readonly clock: Clock;
  readonly log: (line: string) => void;
  /** The payment processor's base URL; without one, card enrollment and payments are refused. */
  readonly processorUrl?: string;
  readonly firstPartyMerchants?: readonly string[];
  readonly sms?: SmsGateway;
  /** The inspector's hook for saga actors, when one is attached. */
  readonly inspectSagas?: InspectHook;
  /** Unrecognised palms a device may present before it is rate-limited (probe-guard.ts). */
  readonly probeLimit?: RateLimit;
}

/** Merchants the operator runs itself unless configured otherwise. */
export const DEFAULT_FIRST_PARTY_MERCHANTS = ["palmline-store"] as const;

const unconfiguredProcessor = (): ProcessorAdapter => {
  const refuse = async (): Promise<never> => {
    throw new ProcessorUnavailable({ reason: "none is configured for this region" });
  };
  return { tokenizeCard: refuse, authorize: refuse, capture: refuse, void: refuse, refund: refuse, issueMerchantCredential: refuse };
};

export const createRegionServices = (o: RegionServicesOptions): RegionServices => {
  const { registry } = o;
  const registers = new DeletionRegisters(registry);
  // Other regions learn this region's count of open payments (a deletion asked there waits for
  // them), and a payment closing may be the last thing a pending deletion waits for, whichever
  // path closed it.
  const ledger = new ClosingPaymentLedger(o.ledger, {
    openChanged: (identityId, open) => {
      try {
        registers.publishOpenPayments(identityId, open);
      } catch (error) {
        o.log(`open payments of ${identityId} not published: ${error instanceof Error ? error.message : String(error)}`);
      }
    },
    closed: (identityId) => {
      deletions
        .completeIfSettled(identityId)
        .catch((error: unknown) => o.log(`pending deletion of ${identityId} not completed: ${error instanceof Error ? error.message : String(error)}`));
    },
  });
  const processor = o.processorUrl !== undefined ? new HttpProcessorAdapter(o.processorUrl) : unconfiguredProcessor();
  // Without a carrier configured, one-time codes go to the node's log (the local SMS adapter).
  const sms = o.sms ?? new LogSmsGateway(o.log);
  const phones = new PhoneVerifier(sms, o.clock);
  // Phone digits are compared here, in the region, and never sent anywhere.
  const stepUps = new StepUpChallenges({
    policy: o.identifier.policy,
    phoneOf: (identityId) => Effect.runSync(registry.readProfile(identityId)).phone,
    clock: o.clock,
    confirmed: (identityId) => {
      o.identifier
        .recordStepUpConfirmed(identityId)
        .catch((error: unknown) => o.log(`last-seen of ${identityId} not raised: ${error instanceof Error ? error.message : String(error)}`));
    },
  });
  const probes = new ProbeGuard({ clock: o.clock, log: o.log, ...(o.probeLimit !== undefined ? { limit: o.probeLimit } : {}) });
  const lookup = palmLookup({ identifier: o.identifier, registry, templateKeys: o.templateKeys, stepUps });
  const entitlements = new EntitlementBook(registry);
  const inspect = o.inspectSagas !== undefined ? { inspect: o.inspectSagas } : {};
  const deletions = new Deletions({
    registry,
    ledger,
    registers,
    index: o.index,
    lookup,
    acknowledgement: new DeletionAcknowledgement({ registry, sms, log: o.log }),
    clock: o.clock,
    log: o.log,
  });
  return {
    registry,
    ledger,
    phones,
    sms,
    entitlements,
    stepUps,
    probes,
    enrollment: new KioskEnrollments({
      identifier: o.identifier,
      registry,
      processor: o.processorUrl !== undefined ? processor : undefined,
      phones,
      templateKeys: o.templateKeys,
      clock: o.clock,
      ...inspect,
    }),
    payments: new Payments({
      ledger,
      registry,
      processor,
      lookup,
      clock: o.clock,
      log: o.log,
      ...inspect,
      firstPartyMerchants: new Set(o.firstPartyMerchants ?? DEFAULT_FIRST_PARTY_MERCHANTS),
      deletionPending: (identityId) => deletions.isPending(identityId),
    }),
    gates: new GateEntries({ book: entitlements, lookup, clock: o.clock, ...inspect }),
    deletions,
  };
};
