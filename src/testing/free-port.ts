import { createServer, type Server } from "node:net";

function listenEphemeral(): Promise<Server> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once("error", reject);
    server.listen({ host: "127.0.0.1", port: 0, exclusive: true }, () => resolve(server));
  });
}

function portOf(server: Server): number {
  const address = server.address();
  if (address === null || typeof address === "string") throw new Error("not a TCP server");
  return address.port;
}

function close(server: Server): Promise<void> {
  return new Promise((resolve) => server.close(() => resolve()));
}

/**
 * A loopback port the OS reports free (bind 127.0.0.1:0). It is released before returning, so
 * another process could take it before the caller binds it.
 */
export async function freePort(): Promise<number> {
  const server = await listenEphemeral();
  const port = portOf(server);
  await close(server);
  return port;
}

/** n distinct free loopback ports; all are held open until every one is found. */
export async function freePorts(n: number): Promise<number[]> {
  const servers: Server[] = [];
  try {
    for (let i = 0; i < n; i++) servers.push(await listenEphemeral());
    return servers.map(portOf);
  } finally {
    await Promise.all(servers.map(close));
  }
}
