// The in-memory identity storage layer against the conformance suite every layer passes.
import { memoryIdentityStorage } from "../../cloud/storage/memory/memory-identity-storage.ts";
import { identityStorageConformance } from "./identity-storage-conformance.ts";

identityStorageConformance("in memory", async () => ({ storage: memoryIdentityStorage(), close: async () => {} }));
