import assert from "node:assert/strict";
import { createHash } from "node:crypto";
import { createServer, type Server, type Socket } from "node:net";
import { Writable } from "node:stream";
import { after, before, describe, test } from "node:test";
import type pg from "pg";
import { serialize } from "../protocol/index.js";
import { freePort, type MeshFixture } from "../testing/index.js";
import { Outbox } from "./outbox.js";
import { Router } from "./router.js";
import type { RouterConfig } from "./router-config.js";
import { QUERY, ServerConnection } from "./server-connection.js";
import { dataRow } from "./wire.js";
import { appClient, oneNodeMesh } from "./wire-client.test-helper.js";

// Server and client sockets read into one buffer each (net `onread`) instead of a fresh one per
// read. Server frames are forwarded as views of that buffer, so a write to a slow client that
// has not completed when the server connection reads again must not see its bytes overwritten;
// client frames the router keeps (held while no server connection is free) must stay intact.

const PASSWORD = "read-buffer-secret";

test("frames forwarded to a client whose write has not completed survive the next server reads", async () => {
  // A server that logs in without a password, then answers a Query with rows sent in separate
  // writes, one per turn of its event loop, so that the router reads them one at a time.
  const rows = Array.from({ length: 50 }, (_, i) =>
    dataRow([`row ${i} `.padEnd(200, String(i % 10))]),
  );
  const sent = Buffer.concat([...rows, serialize.readyForQuery("I")]);
  const server: Server = createServer((s) => {
    let loggedIn = false;
    s.on("error", () => {});
    s.on("data", async (chunk: Buffer) => {
      if (!loggedIn) {
        loggedIn = true;
        s.write(Buffer.concat([serialize.authenticationOk(), serialize.readyForQuery("I")]));
        return;
      }
      if (chunk[0] !== 0x51) return; // Q
      for (const r of rows) {
        s.write(r);
        await new Promise((resolve) => setTimeout(resolve, 2));
      }
      s.write(serialize.readyForQuery("I"));
    });
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const port = (server.address() as { port: number }).port;
  // The client side: a socket whose writes never complete until the test says so, as a client
  // that stopped reading. The chunks it keeps are what the router handed to the kernel.
  const written: Buffer[] = [];
  const done: (() => void)[] = [];
  const client = new Writable({
    highWaterMark: 1 << 24,
    write(chunk: Buffer, _encoding, callback) {
      written.push(chunk);
      done.push(callback);
    },
  });
  let idle: () => void = () => {};
  const answered = new Promise<void>((resolve) => {
    idle = resolve;
  });
  const conn = new ServerConnection(
    { node: "fake", host: "127.0.0.1", port, database: "db", user: "u", password: "" },
    () => {},
  );
  try {
    const failure = await new Promise((resolve) => conn.open(5000, resolve));
    assert.equal(failure, undefined);
    const out = new Outbox(client as unknown as Socket);
    conn.owner = {
      out,
      socket: client as unknown as Socket,
      flushOut: () => out.flush(),
      parameterChanged: () => {},
      releasesWhenIdle: true,
      serverIdle: () => idle(),
      serverLost: () => {},
    };
    conn.send(serialize.query("SELECT rows"), QUERY);
    conn.flush();
    await answered;
    // Now the writes complete, the first and those queued behind it.
    for (let callback = done.shift(); callback; callback = done.shift()) callback();
    assert.ok(written.length > 1, "the rows arrived in several reads");
    assert.deepEqual(Buffer.concat(written), sent);
  } finally {
    for (const callback of done) callback();
    conn.close();
    server.close();
  }
});

describe("router: reusable read buffers", () => {
  let m: MeshFixture;
  let base: RouterConfig;
  const routers: Router[] = [];

  async function startRouter(poolSize: number): Promise<number> {
    const port = await freePort();
    const router = new Router(
      { ...base, poolSize, listen: { host: "127.0.0.1", port } },
      { log: () => {} },
    );
    routers.push(router);
    await router.start();
    return port;
  }

  function client(port: number): pg.Client {
    return appClient(port, PASSWORD);
  }

  before(async () => {
    base = await oneNodeMesh("read-buffer", PASSWORD, "poolSize: 2", (fixture) => {
      m = fixture;
    });
  });
  after(async () => {
    for (const r of routers) await r.stop();
    await m?.destroy();
  });

  test("a large query held while no server connection is free arrives intact", async () => {
    const port = await startRouter(1);
    const holder = client(port);
    const waiter = client(port);
    await holder.connect();
    await waiter.connect();
    try {
      await holder.query("BEGIN");
      await holder.query("SELECT 1");
      // ~1 MB of text in many reads, all held by the router until the transaction ends.
      const text = Array.from({ length: 40_000 }, (_, i) => `row ${i};`).join("");
      const pending = waiter.query({
        text: "SELECT md5($1) AS h, length($1) AS n",
        values: [text],
      });
      const simple = waiter.query(`SELECT md5('${text}') AS h`);
      // Every byte the waiter wrote reached the router, which holds it: its session is queued
      // for the pool's one connection. (bytesWritten counts what the socket still buffers.)
      const stream = (waiter as unknown as { connection: { stream: Socket } }).connection.stream;
      const router = routers.at(-1)!;
      const session = () => [...router.clients()].find((s) => s.port === stream.localPort);
      for (;;) {
        const s = session();
        if (s?.waitingPool !== undefined && s.socket.bytesRead === stream.bytesWritten) break;
        await new Promise((resolve) => setImmediate(resolve));
      }
      await holder.query("COMMIT");
      const expected = createHash("md5").update(text).digest("hex");
      const r = await pending;
      assert.equal(r.rows[0].h, expected);
      assert.equal(r.rows[0].n, text.length);
      assert.equal((await simple).rows[0].h, expected);
    } finally {
      await holder.end();
      await waiter.end();
    }
  });
});
