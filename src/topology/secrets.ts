import { readFileSync } from "node:fs";
import { dirname, resolve } from "node:path";
import type { SecretRef } from "./model.js";
import { TopologyError } from "./topology-error.js";

/**
 * Reads a secret reference. `env:NAME` reads the environment, `file:PATH` a file relative to
 * `baseDir` (one trailing newline is dropped). Errors name the reference, never its value.
 */
export function resolveSecret(secret: SecretRef, baseDir: string): string {
  const { ref, at } = secret;
  if (ref.startsWith("env:")) {
    const name = ref.slice(4);
    const value = process.env[name];
    if (value === undefined || value === "") {
      throw new TopologyError([
        {
          at,
          message: `environment variable ${name} is not set (${ref})`,
          expected: "a non-empty variable",
          hint: `export ${name}=… before running dbmesh, or use file:PATH`,
        },
      ]);
    }
    return value;
  }
  const path = resolve(baseDir, ref.slice(5));
  try {
    const value = readFileSync(path, "utf8").replace(/\r?\n$/, "");
    if (value === "") throw new Error("the file is empty");
    return value;
  } catch (e) {
    throw new TopologyError([
      {
        at,
        message: `cannot read secret file ${path} (${ref}): ${(e as Error).message}`,
        expected: "a readable file holding the secret",
        hint: "create the file (mode 0600) or use env:NAME",
      },
    ]);
  }
}

/** A secret reference of a topology, relative to the topology file's directory. */
export function secretValue(t: { readonly file: string }, ref: SecretRef): string {
  return resolveSecret(ref, dirname(t.file));
}
