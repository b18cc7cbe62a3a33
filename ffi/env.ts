/**
 * Reading the environment without ever prompting: a variable is read only
 * when env permission for it is granted already; otherwise it counts as unset.
 *
 * @module
 */

/**
 * The value of an environment variable, or `undefined` when it is unset or
 * when reading it is not permitted (never prompts).
 *
 * @param name Variable name.
 * @returns Its value, or `undefined`.
 */
export function envGet(name: string): string | undefined {
  try {
    const { state } = Deno.permissions.querySync({
      name: "env",
      variable: name,
    });
    if (state !== "granted") return undefined;
    const value = Deno.env.get(name);
    return value === "" ? undefined : value;
  } catch {
    return undefined;
  }
}

/**
 * Whether `error` is Deno's answer to a missing permission; such errors are
 * passed through unchanged so that the user sees which flag is missing.
 */
export function isPermissionError(error: unknown): boolean {
  return error instanceof Deno.errors.NotCapable ||
    error instanceof Deno.errors.PermissionDenied;
}
