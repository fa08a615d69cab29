import { slotName } from "./load.js";
import type { MeshNode, Topology } from "./model.js";

/**
 * The topology as it runs after promotions: `primaries` maps a replication group (named by the
 * primary the file declares) to the node that is its primary now. That node streams from
 * nobody; the declared primary and every node that streamed from it follow the new primary;
 * other chains stay as declared.
 */
export function withCurrentPrimaries(
  t: Topology,
  primaries: Readonly<Record<string, string>>,
): Topology {
  const nodes = new Map(t.nodes);
  for (const [group, current] of Object.entries(primaries)) {
    const declared = t.nodes.get(group);
    const promoted = t.nodes.get(current);
    if (!declared || !promoted || current === group || promoted.group !== group) continue;
    const role = promoted.standby?.role ?? "";
    const rebase = (n: MeshNode): MeshNode => {
      if (n.name === current) return freeze(n, undefined, declared.synchronous);
      if (n.name === group) {
        return freeze(
          n,
          // The promoted node's own bound is the one the group declared for a standby there.
          {
            upstream: current,
            sync: false,
            slot: slotName(group),
            role,
            maxLag: promoted.standby!.maxLag,
            onMismatch: promoted.standby!.onMismatch,
          },
          n.synchronous,
        );
      }
      if (n.standby?.upstream === group)
        return freeze(n, { ...n.standby, upstream: current }, n.synchronous);
      return n;
    };
    for (const n of t.nodes.values()) if (n.group === group) nodes.set(n.name, rebase(n));
  }
  return Object.freeze({ ...t, nodes });
}

function freeze(
  n: MeshNode,
  standby: MeshNode["standby"],
  synchronous: MeshNode["synchronous"],
): MeshNode {
  return Object.freeze({ ...n, standby: standby && Object.freeze({ ...standby }), synchronous });
}
