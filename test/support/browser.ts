// Debian's Chromium driven by playwright-core, started the way this machine needs: headless, no
// sandbox as root, and none of the background networking a closed network would refuse.
// Screenshots of failed tests are kept under test-results/.
import { mkdirSync } from "node:fs";
import { join } from "node:path";
import { chromium, type Browser, type Page } from "playwright-core";
import { repoRoot } from "./region-process.ts";

export const CHROMIUM_PATH = process.env.PALMLINE_CHROMIUM ?? "/usr/bin/chromium";

export const launchChromium = (): Promise<Browser> =>
  chromium.launch({
    executablePath: CHROMIUM_PATH,
    headless: true,
    args: [
      "--no-sandbox",
      "--disable-gpu",
      "--disable-quic",
      "--no-first-run",
      "--disable-background-networking",
      "--disable-component-update",
      "--disable-sync",
    ],
  });

export const screenshotOnFailure = async (page: Page | undefined, testName: string, failed: boolean): Promise<void> => {
  if (!failed || page === undefined) return;
  const dir = join(repoRoot, "test-results");
  mkdirSync(dir, { recursive: true });
  await page.screenshot({ path: join(dir, `${testName.replace(/[^a-z0-9]+/gi, "-")}.png`), fullPage: true }).catch(() => {});
};
