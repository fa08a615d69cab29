import assert from "node:assert/strict";
import { after, before, describe, test } from "node:test";
import { type MeshFixture, meshFixture } from "../testing/index.js";

// Without the MariaDB server (here: DBMESH_MARIADB_BIN pointing where it is not), `up` of a
// MariaDB node says which Debian package to install. Runs on every machine.
describe("a MariaDB node without the MariaDB server installed", () => {
  let m: MeshFixture;

  before(async () => {
    m = await meshFixture({
      name: "mariadb-missing",
      ports: 1,
      yaml: ([p]) => `version: 1
nodes:
  shop: { engine: mariadb, port: ${p} }
`,
      env: { DBMESH_MARIADB_BIN: "/nonexistent/mariadb/bin" },
    });
  });
  after(async () => {
    await m?.destroy();
  });

  test("up names the package to install and the directory it looked in", async () => {
    const up = await m.run("up");
    assert.equal(up.code, 1, up.stdout + up.stderr);
    const said = up.stdout + up.stderr;
    assert.match(said, /shop/);
    assert.match(
      said,
      /the MariaDB server is not installed: no mariadbd or mariadb-install-db in DBMESH_MARIADB_BIN=\/nonexistent\/mariadb\/bin/,
    );
    assert.match(said, /apt-get install mariadb-server/);
  });
});
