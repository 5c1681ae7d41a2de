/**
 * Headless Chromium for the browser tests. Where it is missing they are skipped with one line
 * saying how to enable them, except under ALIGNKIT_REQUIRE_BROWSER=1 (`.ci/run` installs
 * Chromium and sets it), where its absence fails them.
 */
import { existsSync } from 'node:fs';

export const CHROMIUM = process.env.ALIGNKIT_CHROMIUM ?? '/usr/bin/chromium';

const required = process.env.ALIGNKIT_REQUIRE_BROWSER === '1';

/** The skip reason of a browser test (false: it runs), for `test(name, { skip: browserSkip }, …)`. */
export const browserSkip: string | false =
  existsSync(CHROMIUM) || required
    ? false
    : `Chromium not found at ${CHROMIUM}: install it (Debian: apt-get install -y chromium) or set ALIGNKIT_CHROMIUM to its path to run this test`;

/** Fails with the reason when Chromium is required (ALIGNKIT_REQUIRE_BROWSER=1) and missing. */
export function requireChromium(): void {
  if (!existsSync(CHROMIUM))
    throw new Error(
      `Chromium is not installed at ${CHROMIUM} and ALIGNKIT_REQUIRE_BROWSER=1 requires it (Debian: apt-get install -y chromium)`,
    );
}
