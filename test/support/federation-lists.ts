// Federation lists for tests: each region's own list of the others (region id, identity key and,
// for the regions it dials, their URL), as an operator keeps one. A region's identity key is
// created in its data directory before it first starts, so lists can be written up front.
import { join } from "node:path";
import { saveFederationMembers, type FederationMember } from "../../cloud/replication/federation-members.ts";
import { loadOrCreateRegionKeyring } from "../../cloud/storage/region-keyring.ts";
import { tempDir } from "../cloud/fixtures.ts";

/** The identity key of the region whose data directory this is (created there if it has none yet). */
export const regionKeyIn = async (dataDir: string): Promise<Uint8Array> => (await loadOrCreateRegionKeyring(dataDir)).identity.publicKey;

export interface ListedRegion {
  readonly regionId: string;
  readonly identityPublicKey: Uint8Array;
  /** Given for the regions the list's owner dials. */
  readonly url?: string;
}

/** Writes a federation list at `file` naming these regions. */
export const writeFederationList = (file: string, regions: readonly ListedRegion[]): string => {
  saveFederationMembers(file, new Map(regions.map((r): [string, FederationMember] => [r.regionId, r])));
  return file;
};

/**
 * Settings for two regions of one federation, one listening and one dialling it: each gets a data
 * directory whose identity key the other's list names; the dialler's list also needs the
 * listener's URL, known once it listens.
 */
export const federatedPair = async (listenerId: string, diallerId: string) => {
  const listenerDir = tempDir(`palmline-${listenerId}-`);
  const diallerDir = tempDir(`palmline-${diallerId}-`);
  const [listenerKey, diallerKey] = await Promise.all([regionKeyIn(listenerDir), regionKeyIn(diallerDir)]);
  return {
    listenerKey,
    diallerKey,
    listener: {
      dataDir: listenerDir,
      federationMembersFile: writeFederationList(join(listenerDir, "federation.json"), [{ regionId: diallerId, identityPublicKey: diallerKey }]),
    },
    dialler: (listenerUrl: string) => ({
      dataDir: diallerDir,
      federationMembersFile: writeFederationList(join(diallerDir, "federation.json"), [
        { regionId: listenerId, identityPublicKey: listenerKey, url: listenerUrl },
      ]),
    }),
  };
};
