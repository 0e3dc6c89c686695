/**
 * Headless Chromium for tests: npm playwright-core driving Debian's /usr/bin/chromium with a
 * fresh temporary profile and the flags that keep it quiet and sandbox-free in CI.
 *
 * @example
 * ```ts
 * if (!(await chromiumInstalled())) return; // skip
 * await withChromium([], async (context) => {
 *   const page = await context.newPage();
 *   await page.goto("http://127.0.0.1:8000/");
 * });
 * ```
 */
import type { BrowserContext } from "playwright-core";

/** Where Debian installs Chromium. */
export const CHROMIUM_PATH = "/usr/bin/chromium";

/** Flags every test launch uses: headless, no sandbox (root in CI), no background traffic. */
export const CHROMIUM_ARGS: readonly string[] = [
  "--headless",
  "--no-sandbox",
  "--disable-gpu",
  "--disable-background-networking",
  "--disable-component-update",
  "--no-first-run",
  "--disable-sync",
];

/** True when Chromium is installed at {@link CHROMIUM_PATH}. */
export async function chromiumInstalled(): Promise<boolean> {
  try {
    await Deno.stat(CHROMIUM_PATH);
    return true;
  } catch (err) {
    if (err instanceof Deno.errors.NotFound) return false;
    throw err;
  }
}

/**
 * Launches Chromium with a fresh profile (plus `extraArgs`), runs `fn`, then closes the
 * browser and removes the profile, whatever `fn` does.
 */
export async function withChromium<T>(
  extraArgs: string[],
  fn: (context: BrowserContext) => Promise<T>,
): Promise<T> {
  const profile = await Deno.makeTempDir({ prefix: "ja4-chromium-" });
  try {
    const { chromium } = await import("playwright-core");
    const context = await chromium.launchPersistentContext(profile, {
      executablePath: CHROMIUM_PATH,
      headless: true,
      args: [...CHROMIUM_ARGS, ...extraArgs],
    });
    try {
      return await fn(context);
    } finally {
      await context.close();
    }
  } finally {
    await Deno.remove(profile, { recursive: true });
  }
}
