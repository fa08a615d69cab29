export { BufferReader } from "./buffer-reader.js";
export { BufferWriter } from "./buffer-writer.js";
export {
  type Authentication,
  type CopyResponse,
  type FieldDescription,
  readAuthentication,
  readBackendKeyData,
  readCommandComplete,
  readCopyResponse,
  readDataRow,
  readErrorFields,
  readParameterStatus,
  readParse,
  readQuery,
  readReadyForQuery,
  readRowDescription,
  readSaslInitialResponse,
  readStartup,
  type StartupRequest,
} from "./decode.js";
export {
  type ErrorFieldName,
  type ErrorFields,
  type ErrorFieldsInit,
  type ErrorFieldValues,
  errorFieldLetters,
} from "./error-fields.js";
export {
  FrameParser,
  type FrameParserOptions,
  type OnMessage,
  type OnSpan,
} from "./frame-parser.js";
export {
  AuthCode,
  BackendCode,
  BaseBackupCode,
  FrontendCode,
  ReplicationCode,
  RequestCode,
} from "./message-codes.js";
export { isProtocolError, ProtocolError } from "./protocol-error.js";
export { saslprep } from "./saslprep.js";
export { ScramClient, type ScramClientOptions } from "./scram-client.js";
export { scramKeys } from "./scram-keys.js";
export type { FormatCode, TargetKind, TransactionStatus } from "./serialize.js";
export * as serialize from "./serialize.js";
