import assert from "node:assert/strict";
import { connect, type Socket } from "node:net";
import pg from "pg";
import {
  BackendCode,
  FrameParser,
  readAuthentication,
  readDataRow,
  readErrorFields,
  ScramClient,
  serialize,
} from "../protocol/index.js";
import { type MeshFixture, meshFixture } from "../testing/index.js";
import { loadTopology, withCurrentPrimaries } from "../topology/index.js";
import { type RouterConfig, routerConfig } from "./router-config.js";

/**
 * Up: a mesh of one node, main, holding appdb owned by role app (`password`), its router line
 * `router: { listen: …, <routerSettings> }`; and the router configuration it declares. `onMesh`
 * has the fixture before `up` runs, so that a failed `up` is still destroyed.
 */
export async function oneNodeMesh(
  name: string,
  password: string,
  routerSettings: string,
  onMesh: (m: MeshFixture) => void,
): Promise<RouterConfig> {
  const m = await meshFixture({
    name,
    ports: 2,
    yaml: ([node, router]) => `version: 1
nodes:
  main: { port: ${node} }
roles:
  app: { password: env:APP_PASSWORD, nodes: [main] }
databases:
  appdb: { node: main, owner: app }
router: { listen: 127.0.0.1:${router}, ${routerSettings} }
`,
    env: { APP_PASSWORD: password },
  });
  onMesh(m);
  const up = await m.run("up");
  assert.equal(up.code, 0, up.stdout + up.stderr);
  process.env.APP_PASSWORD = password;
  return routerConfig(withCurrentPrimaries(loadTopology(m.file), {}));
}

/** A node-postgres client of the router on `port` as role app on appdb; errors are ignored. */
export function appClient(
  port: number,
  password: string,
  overrides: Partial<pg.ClientConfig> = {},
): pg.Client {
  const c = new pg.Client({
    host: "127.0.0.1",
    port,
    user: "app",
    database: "appdb",
    password,
    ...overrides,
  });
  // A connection the router drops must not crash the test process.
  c.on("error", () => {});
  return c;
}

/** A client that speaks the wire protocol byte by byte, to send what drivers never would. */
export class WireClient {
  private readonly parser = new FrameParser();
  private readonly frames: { code: number; body: Buffer }[] = [];
  private waiter: (() => void) | undefined;
  private ended = false;

  private constructor(readonly socket: Socket) {
    socket.on("data", (chunk: Buffer) => {
      this.parser.parse(chunk, (code, body) => this.frames.push({ code, body: Buffer.from(body) }));
      this.waiter?.();
    });
    socket.on("error", () => {});
    socket.on("close", () => {
      this.ended = true;
      this.waiter?.();
    });
  }

  static open(port: number): Promise<WireClient> {
    return new Promise((resolve, reject) => {
      const s = connect({ host: "127.0.0.1", port }, () => resolve(new WireClient(s)));
      s.once("error", reject);
    });
  }

  static async login(
    port: number,
    user: string,
    database: string,
    password: string,
  ): Promise<WireClient> {
    const w = await WireClient.open(port);
    const scram = new ScramClient(password);
    w.socket.write(serialize.startup({ user, database }));
    for (;;) {
      const { code, body } = await w.next();
      if (code === BackendCode.ReadyForQuery) return w;
      if (code === BackendCode.ErrorResponse) throw new Error(readErrorFields(body).message);
      if (code !== BackendCode.Authentication) continue;
      const auth = readAuthentication(body);
      if (auth.kind === "sasl") {
        w.socket.write(serialize.saslInitialResponse(ScramClient.mechanism, scram.clientFirst()));
      } else if (auth.kind === "sasl-continue") {
        w.socket.write(serialize.saslResponse(scram.clientFinal(auth.data)));
      } else if (auth.kind === "sasl-final") scram.verifyServerFinal(auth.data);
    }
  }

  async next(): Promise<{ code: number; body: Buffer }> {
    while (this.frames.length === 0) {
      if (this.ended) throw new Error("connection closed");
      await new Promise<void>((r) => {
        this.waiter = r;
      });
    }
    return this.frames.shift()!;
  }

  /** Messages up to the `count`-th ReadyForQuery: their type letters, rows and errors. */
  async until(count: number) {
    const codes: string[] = [];
    const rows: string[][] = [];
    const errors: { code: string; message: string }[] = [];
    for (let seen = 0; seen < count; ) {
      const { code, body } = await this.next();
      codes.push(String.fromCharCode(code));
      if (code === BackendCode.ReadyForQuery) seen++;
      if (code === BackendCode.DataRow) rows.push(readDataRow(body).map((c) => String(c)));
      if (code === BackendCode.ErrorResponse) errors.push(readErrorFields(body));
    }
    return { codes, rows, errors };
  }

  /** Reads until the router closes the connection. */
  async drained(): Promise<void> {
    for (;;) {
      try {
        await this.next();
      } catch {
        return;
      }
    }
  }

  /** The ErrorResponse the router sends before closing; fails if it closes without one. */
  async closedWithError(): Promise<{ code: string; message: string }> {
    let error: { code: string; message: string } | undefined;
    for (;;) {
      let frame: { code: number; body: Buffer };
      try {
        frame = await this.next();
      } catch {
        break;
      }
      if (frame.code === BackendCode.ErrorResponse) error = readErrorFields(frame.body);
    }
    assert.ok(error, "an ErrorResponse before the close");
    return error;
  }
}
