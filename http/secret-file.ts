// Secrets an HTTP surface reads from files: bearer tokens (named by the operator, or created once
// in the data directory) and a TLS private key. Like ssh with a private key, a file another user
// could read is refused, not used; a token file that exists is never overwritten (a restart keeps
// the token the operator's tools hold).
import { Data } from "effect";
import { existsSync, readFileSync, statSync, writeFileSync } from "node:fs";
import { newBearerToken } from "./bearer-token.ts";

export class SecretFileRefused extends Data.TaggedError("SecretFileRefused")<{ readonly path: string; readonly reason: string }> {
  override get message() {
    return `${this.path} refused: ${this.reason}`;
  }
}

const TOKEN = /^[\x21-\x7e]{16,512}$/;

/** The file's bytes, if it is the owner's alone (no group or other permission bits). */
export const readSecretFile = (path: string): Buffer => {
  let mode: number;
  try {
    mode = statSync(path).mode & 0o777;
  } catch (error) {
    throw new SecretFileRefused({ path, reason: (error as NodeJS.ErrnoException).code === "ENOENT" ? "no such file" : String(error) });
  }
  if ((mode & 0o077) !== 0)
    throw new SecretFileRefused({
      path,
      reason: `its mode ${mode.toString(8).padStart(4, "0")} lets other users read it (chmod 600 ${path}, and replace the secret)`,
    });
  return readFileSync(path);
};

/** The token in `path`: a secret file holding one token of 16 to 512 visible ASCII characters. */
export const readTokenFile = (path: string): string => {
  const token = readSecretFile(path).toString("utf8").trim();
  if (!TOKEN.test(token)) throw new SecretFileRefused({ path, reason: "it must hold one token of 16 to 512 visible ASCII characters" });
  return token;
};

/** The token in `path`, created there (mode 0600) with a fresh token the first time. */
export const loadOrCreateTokenFile = (path: string): { readonly token: string; readonly created: boolean } => {
  if (existsSync(path)) return { token: readTokenFile(path), created: false };
  const token = newBearerToken();
  // "wx": a file that appeared meanwhile is not overwritten; the write fails instead.
  writeFileSync(path, `${token}\n`, { mode: 0o600, flag: "wx" });
  return { token, created: true };
};
