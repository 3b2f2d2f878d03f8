// A palm dataset on disk: DIR/<subject>/<image>.{bmp,png,jpg,jpeg}, one folder per subject (a
// subject is one palm: datasets that keep left and right hands apart give them separate folders).
import { readdirSync, statSync } from "node:fs";
import { join } from "node:path";

export interface DatasetImage {
  readonly subject: string;
  readonly path: string;
}

const IMAGE = /\.(bmp|png|jpe?g)$/i;

export const listDataset = (root: string): DatasetImage[] => {
  const out: DatasetImage[] = [];
  for (const subject of readdirSync(root).sort()) {
    const dir = join(root, subject);
    if (!statSync(dir).isDirectory()) continue;
    for (const file of readdirSync(dir).sort()) {
      if (IMAGE.test(file) && !/\.nir\./i.test(file)) out.push({ subject, path: join(dir, file) });
    }
  }
  return out;
};
