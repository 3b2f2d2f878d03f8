// Destroying a file's contents, not just its name: overwritten with zeros and flushed before it is
// unlinked, so its blocks hold nothing where the filesystem overwrites in place (ext4, xfs; not
// copy-on-write filesystems or SSD remapping, which is why the disk should be encrypted too).
import { closeSync, existsSync, fstatSync, fsyncSync, openSync, rmSync, writeSync } from "node:fs";

/** Shreds the file if it exists. */
export const shredFile = (path: string): void => {
  if (!existsSync(path)) return;
  const fd = openSync(path, "r+");
  try {
    const size = fstatSync(fd).size;
    const zeros = new Uint8Array(Math.min(size, 2 ** 20));
    for (let at = 0; at < size; at += zeros.byteLength) writeSync(fd, zeros, 0, Math.min(zeros.byteLength, size - at), at);
    fsyncSync(fd);
  } finally {
    closeSync(fd);
  }
  rmSync(path, { force: true });
};
