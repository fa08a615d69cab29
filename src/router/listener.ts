import { createServer, type Server, type Socket } from "node:net";

/**
 * A TCP listener for clients. Half-open sockets are allowed so that a client that shuts down
 * its sending side mid-message still reads the ErrorResponse explaining why it is dropped.
 */
export function listen(
  host: string,
  port: number,
  onSocket: (socket: Socket) => void,
): Promise<Server> {
  return new Promise((resolve, reject) => {
    const server = createServer({ allowHalfOpen: true, noDelay: true }, (socket) => {
      try {
        onSocket(socket);
      } catch {
        socket.destroy();
      }
    });
    server.once("error", reject);
    server.listen({ host, port }, () => {
      server.removeListener("error", reject);
      // A failing accept must not take the router down; each socket has its own handler.
      server.on("error", () => {});
      resolve(server);
    });
  });
}
