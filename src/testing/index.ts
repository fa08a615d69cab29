export { enableFastInit } from "./fast-init.js";
export { freePort, freePorts } from "./free-port.js";
export { libraryMesh } from "./library-mesh.js";
export {
  exampleFixture,
  type MeshFixture,
  meshFixture,
  type RunResult,
  scottFixture,
} from "./mesh-fixture.js";
export { type Served, serve } from "./serve.js";
export { removeDir, tempDir } from "./temp-dir.js";
export { ADMIN_HBA, testNode } from "./test-node.js";
export { textRows } from "./text-rows.js";
export { issuesOf, type ShownIssue } from "./topology-issues.js";
