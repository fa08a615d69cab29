// Body of the worker thread of BackgroundCrc32c: CRC-32C of spans of the shared buffer, in the
// order the jobs arrive, each file's CRC carried from one job to the next.
import { parentPort, workerData } from "node:worker_threads";
import { crc32cSpans } from "./crc32c.js";

const port = parentPort;
if (!port) throw new Error("crc32c-thread runs as a worker thread");
const bytes = new Uint8Array(workerData as SharedArrayBuffer);
const state = new Map<number, number>();
port.on("message", (spans: number[]) => {
  port.postMessage(crc32cSpans(bytes, spans, state));
});
