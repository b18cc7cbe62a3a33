/**
 * The version of LMM: the package's version in `deno.json` (a test keeps the
 * two equal) and what `lmm --version` prints.
 *
 * @module
 */

/** The package version. */
export const VERSION = "0.1.0";
