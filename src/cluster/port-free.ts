import { createServer } from "node:net";

/** null when the port can be bound on host, else the bind error code (EADDRINUSE, ...). */
function tryBind(host: string, port: number): Promise<string | null> {
  return new Promise((resolve) => {
    const server = createServer();
    server.once("error", (e: NodeJS.ErrnoException) => resolve(e.code ?? "EUNKNOWN"));
    server.listen({ host, port, exclusive: true }, () => {
      server.close(() => resolve(null));
    });
  });
}

/**
 * Checks a port is free on every address of a listen_addresses value ("127.0.0.1",
 * "localhost", "*", or a comma-separated list); "*" means all IPv4 and IPv6 addresses.
 * https://www.postgresql.org/docs/current/runtime-config-connection.html#GUC-LISTEN-ADDRESSES
 */
export async function portBindError(listenAddresses: string, port: number): Promise<string | null> {
  const hosts = listenAddresses
    .split(",")
    .map((h) => h.trim())
    .filter((h) => h !== "");
  for (const host of hosts) {
    if (host === "*") {
      const v4 = await tryBind("0.0.0.0", port);
      if (v4) return v4;
      const v6 = await tryBind("::", port);
      if (v6 && v6 !== "EAFNOSUPPORT" && v6 !== "EADDRNOTAVAIL") return v6;
      continue;
    }
    const err = await tryBind(host, port);
    if (err) return err;
  }
  return null;
}
