import { createServer, type Server, type Socket, connect as tcpConnect } from "node:net";

/**
 * A TCP relay on loopback that counts the bytes it carries each way: put between the
 * coordinator and a shard node, it shows what a query moved over the link, protocol overhead
 * included.
 */
export interface CountingProxy {
  readonly port: number;
  toShard: number;
  fromShard: number;
  close(): void;
}

/** Relays not closed yet, closed by `closeProxies` when a benchmark is cleaning up. */
const open = new Set<CountingProxy>();

export function countingProxy(targetPort: number): Promise<CountingProxy> {
  const sockets = new Set<Socket>();
  return new Promise((resolve, reject) => {
    const server: Server = createServer((down) => {
      const up = tcpConnect({ host: "127.0.0.1", port: targetPort });
      for (const s of [down, up]) {
        sockets.add(s);
        s.setNoDelay(true);
        s.on("error", () => {
          down.destroy();
          up.destroy();
        });
        s.on("close", () => sockets.delete(s));
      }
      down.on("data", (b: Buffer) => {
        proxy.toShard += b.length;
      });
      up.on("data", (b: Buffer) => {
        proxy.fromShard += b.length;
      });
      down.pipe(up);
      up.pipe(down);
    });
    const proxy: CountingProxy = {
      port: 0,
      toShard: 0,
      fromShard: 0,
      close: () => {
        for (const s of sockets) s.destroy();
        server.close();
        open.delete(proxy);
      },
    };
    server.once("error", reject);
    server.listen({ host: "127.0.0.1", port: 0 }, () => {
      const a = server.address();
      if (a === null || typeof a === "string") return reject(new Error("not a TCP server"));
      (proxy as { port: number }).port = a.port;
      open.add(proxy);
      resolve(proxy);
    });
  });
}

export function closeProxies(): void {
  for (const p of open) p.close();
}
