// The business flows a device session can reach, grouped so the session (and the server that
// creates sessions) depend on one thing, and built here from the node's storage and index. A
// node without a payment processor still identifies, enrolls without a card and runs gates.
import type { DatabaseSync } from "node:sqlite";
import type { Clock } from "../../core/clock.ts";
import type { HybridLogicalClock } from "../../core/hybrid-logical-clock.ts";
import type { TemplateKeyPair } from "../../protocol/index.ts";
import { EntitlementBook } from "../entitlements/entitlement-book.ts";
import type { PalmIdentifier } from "../identification/palm-identifier.ts";
import { HttpProcessorAdapter } from "../payments/http-processor-adapter.ts";
import type { ProcessorAdapter } from "../payments/processor-adapter.ts";
import { PhoneVerifier, type SmsGateway } from "../phone/phone-verifier.ts";
import { IdentityDeletion } from "../registry/identity-deletion.ts";
import { IdentityProfiles } from "../registry/identity-profile.ts";
import { phoneHasher } from "../registry/phone-hash.ts";
import type { PaymentLedger } from "../registry/payment-ledger.ts";
import { ClosingPaymentLedger } from "../lifecycle/closing-payment-ledger.ts";
import { DeletionAcknowledgement } from "../lifecycle/deletion-acknowledgement.ts";
import { DeletionRegisters } from "../lifecycle/deletion-registers.ts";
import { DeletionDesk, type ShardRemoval } from "../sagas/deletion-desk.ts";
import { EnrollmentDesk } from "../sagas/enrollment-desk.ts";
import { GateDesk } from "../sagas/gate-desk.ts";
import { LogSmsGateway } from "../portal/log-sms-gateway.ts";
import { palmLookup } from "../sagas/palm-lookup.ts";
import { PaymentDesk } from "../sagas/payment-desk.ts";
import { StepUpDesk } from "../sagas/step-up-desk.ts";
import { ProbeGuard } from "./probe-guard.ts";
import type { RateLimit } from "../../protocol/token-bucket.ts";
import type { InspectHook } from "../sagas/saga-actor-options.ts";
import { IdentityVault } from "../storage/identity-vault.ts";
import type sodiumModule from "libsodium-wrappers";

export interface RegionFlows {
  readonly enrollment: EnrollmentDesk;
  readonly payments: PaymentDesk;
  readonly gates: GateDesk;
  readonly deletions: DeletionDesk;
  readonly phones: PhoneVerifier;
  readonly profiles: IdentityProfiles;
  readonly entitlements: EntitlementBook;
  readonly ledger: PaymentLedger;
  readonly sms: SmsGateway;
  /** Step-ups asked of devices and not yet settled. */
  readonly stepUps: StepUpDesk;
  /** Per-device limit on unrecognised palms and failed step-ups. */
  readonly probes: ProbeGuard;
}

export interface RegionFlowsOptions {
  readonly db: DatabaseSync;
  readonly sodium: typeof sodiumModule;
  readonly storageKey: Uint8Array;
  readonly hlc: HybridLogicalClock;
  /** This region's id in the federation (its open-payment register is named after it); the HLC's node id by default. */
  readonly regionId?: string;
  readonly identifier: PalmIdentifier;
  readonly shards: ShardRemoval;
  /** Whether an identity is enrolled and not deleted (the registry's answer). */
  readonly isLive: (identityId: string) => boolean;
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
    throw new Error("no payment processor is configured for this region");
  };
  return { tokenizeCard: refuse, authorize: refuse, capture: refuse, void: refuse, refund: refuse, issueMerchantCredential: refuse };
};

export const createRegionFlows = (o: RegionFlowsOptions): RegionFlows => {
  // A keyed hash of phone numbers: findable by the operator, not reversible from the database.
  const phoneHash = phoneHasher(o.storageKey);
  const profiles = new IdentityProfiles({ db: o.db, vault: new IdentityVault(o.sodium, o.storageKey), hlc: o.hlc, phoneHash });
  const registers = new DeletionRegisters({ profiles, regionId: o.regionId ?? o.hlc.nodeId });
  // Other regions learn this region's count of open payments (a deletion asked there waits for
  // them), and a payment closing may be the last thing a pending deletion waits for, whichever
  // path closed it.
  const ledger = new ClosingPaymentLedger(o.db, {
    openChanged: (identityId, open) => {
      try {
        registers.publishOpenPayments(identityId, open);
      } catch (error) {
        o.log(`open payments of ${identityId} not published: ${error instanceof Error ? error.message : String(error)}`);
      }
    },
    closed: (identityId) => {
      deletions.completeIfSettled(identityId).catch((error: unknown) => o.log(`pending deletion of ${identityId} not completed: ${error instanceof Error ? error.message : String(error)}`));
    },
  });
  const processor = o.processorUrl !== undefined ? new HttpProcessorAdapter(o.processorUrl) : unconfiguredProcessor();
  // Without a carrier configured, one-time codes go to the node's log (the local SMS adapter).
  const sms = o.sms ?? new LogSmsGateway(o.log);
  const phones = new PhoneVerifier(sms, o.clock);
  // Phone digits are compared here, in the region, and never sent anywhere.
  const stepUps = new StepUpDesk({
    policy: o.identifier.policy,
    phoneOf: (identityId) => profiles.read(identityId).phone,
    clock: o.clock,
    confirmed: (identityId) => o.identifier.recordStepUpConfirmed(identityId),
  });
  const probes = new ProbeGuard({ clock: o.clock, log: o.log, ...(o.probeLimit !== undefined ? { limit: o.probeLimit } : {}) });
  const lookup = palmLookup({ identifier: o.identifier, profiles, templateKeys: o.templateKeys, stepUps });
  const entitlements = new EntitlementBook(o.db);
  const inspect = o.inspectSagas !== undefined ? { inspect: o.inspectSagas } : {};
  const deletions = new DeletionDesk({
    deletion: new IdentityDeletion(o.db, o.hlc),
    ledger,
    registers,
    shards: o.shards,
    lookup,
    isLive: o.isLive,
    acknowledgement: new DeletionAcknowledgement({ profiles, sms, log: o.log }),
    clock: o.clock,
    log: o.log,
  });
  return {
    profiles,
    ledger,
    phones,
    sms,
    entitlements,
    stepUps,
    probes,
    enrollment: new EnrollmentDesk({ identifier: o.identifier, profiles, processor: o.processorUrl !== undefined ? processor : undefined, phones, templateKeys: o.templateKeys, clock: o.clock, ...inspect }),
    payments: new PaymentDesk({
      ledger,
      profiles,
      processor,
      lookup,
      clock: o.clock,
      log: o.log,
      ...inspect,
      firstPartyMerchants: new Set(o.firstPartyMerchants ?? DEFAULT_FIRST_PARTY_MERCHANTS),
      deletionPending: (identityId) => deletions.isPending(identityId),
    }),
    gates: new GateDesk({ book: entitlements, lookup, clock: o.clock, ...inspect }),
    deletions,
  };
};
