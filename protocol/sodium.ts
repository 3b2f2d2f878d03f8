// libsodium is WebAssembly that must finish loading before its first call. Every protocol entry
// point that touches crypto is async (or runs after one that was) and awaits this once.
import sodium from "libsodium-wrappers";

export type Sodium = typeof sodium;

export const loadSodium = async (): Promise<Sodium> => {
  await sodium.ready;
  return sodium;
};
