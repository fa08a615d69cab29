import { runDoctor } from "../../doctor/index.js";
import type { Args } from "../args.js";
import { connectionsFor, loadFromArgs } from "../mesh.js";
import type { Output } from "../output.js";

/** Every check, its cause and fix; exit 1 if any failed. */
export async function doctorCommand(args: Args, out: Output): Promise<number> {
  const t = loadFromArgs(args);
  const conns = connectionsFor(t);
  try {
    const results = await runDoctor(t, conns, conns.mariadb);
    out.data({ ok: results.every((r) => r.ok), checks: results });
    for (const r of results) {
      const ms = r.ms !== undefined ? `  ${r.ms} ms` : "";
      out.line(`${r.ok ? "ok  " : "FAIL"}  ${r.check.padEnd(9)} ${r.subject}: ${r.detail}${ms}`);
      if (!r.ok) {
        out.line(`        cause: ${r.cause}`);
        out.line(`        fix:   ${r.fix}`);
      }
    }
    const failed = results.filter((r) => !r.ok).length;
    out.line(
      failed
        ? `${failed} of ${results.length} checks failed`
        : `all ${results.length} checks passed`,
    );
    return failed ? 1 : 0;
  } finally {
    await conns.closeAll();
  }
}
