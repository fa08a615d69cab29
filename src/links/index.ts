export { planCopies } from "./copies.js";
export { planDblinkViews } from "./dblink.js";
export { planLinkSetup } from "./link-setup.js";
export { planFdwImport } from "./postgres-fdw.js";
export type { RemoteCatalog } from "./remote-catalog.js";
export { extensionOf, serverOptions, wrapperOf } from "./server-options.js";
