import { readdir, readFile, readlink } from "node:fs/promises";

export interface PortOwner {
  pid: number;
  /** /proc/PID/comm */
  command: string;
  /** /proc/PID/cmdline with arguments joined by spaces */
  cmdline: string;
}

export interface PortListeners {
  /** uids owning a LISTEN socket on the port, from /proc/net/tcp{,6} */
  uids: number[];
  /** processes holding one of those sockets; only those whose /proc/PID/fd we may read */
  owners: PortOwner[];
}

const TCP_LISTEN = "0A";

/**
 * Rows of /proc/net/tcp and /proc/net/tcp6: "sl local_address rem_address st ... uid timeout
 * inode", local_address is HEXIP:HEXPORT and st 0A is TCP_LISTEN.
 * https://www.kernel.org/doc/Documentation/networking/proc_net_tcp.txt
 */
async function listeningInodes(port: number): Promise<Map<string, number>> {
  const inodes = new Map<string, number>();
  for (const table of ["/proc/net/tcp", "/proc/net/tcp6"]) {
    let text: string;
    try {
      text = await readFile(table, "utf8");
    } catch {
      continue;
    }
    for (const row of text.split("\n").slice(1)) {
      const f = row.trim().split(/\s+/);
      const local = f[1];
      if (!local || f[3] !== TCP_LISTEN) continue;
      const hexPort = local.slice(local.lastIndexOf(":") + 1);
      const inode = f[9];
      if (Number.parseInt(hexPort, 16) === port && inode && inode !== "0") {
        inodes.set(inode, Number(f[7]));
      }
    }
  }
  return inodes;
}

async function describeProcess(pid: number): Promise<PortOwner> {
  const comm = await readFile(`/proc/${pid}/comm`, "utf8").catch(() => "");
  const cmdline = await readFile(`/proc/${pid}/cmdline`, "utf8").catch(() => "");
  return {
    pid,
    command: comm.trim(),
    cmdline: cmdline.replace(/\0+$/, "").split("\0").join(" "),
  };
}

/** Who is listening on a TCP port, found by matching socket inodes against /proc/PID/fd links. */
export async function findPortListeners(port: number): Promise<PortListeners> {
  const inodes = await listeningInodes(port);
  const uids = [...new Set(inodes.values())];
  if (inodes.size === 0) return { uids, owners: [] };
  const wanted = new Set([...inodes.keys()].map((i) => `socket:[${i}]`));
  const pids = (await readdir("/proc").catch(() => [] as string[]))
    .filter((d) => /^\d+$/.test(d))
    .map(Number)
    .sort((a, b) => a - b);
  const owners: PortOwner[] = [];
  for (const pid of pids) {
    let fds: string[];
    try {
      fds = await readdir(`/proc/${pid}/fd`);
    } catch {
      continue;
    }
    const links = await Promise.all(
      fds.map((fd) => readlink(`/proc/${pid}/fd/${fd}`).catch(() => "")),
    );
    if (links.some((l) => wanted.has(l))) owners.push(await describeProcess(pid));
  }
  return { uids, owners };
}
