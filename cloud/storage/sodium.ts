// libsodium must finish loading its WebAssembly before first use; every cloud module that needs
// it awaits this one promise.
import sodium from "libsodium-wrappers";

export const sodiumReady: Promise<typeof sodium> = sodium.ready.then(() => sodium);
