// Message type bytes. Frontend and backend reuse letters with different meanings ('D' is
// Describe from the client and DataRow from the server), so each direction has its own table.
// https://www.postgresql.org/docs/17/protocol-message-formats.html

/** Type byte of each message the server sends. */
export const BackendCode = {
  ParseComplete: 0x31, // 1
  BindComplete: 0x32, // 2
  CloseComplete: 0x33, // 3
  NotificationResponse: 0x41, // A
  CommandComplete: 0x43, // C
  DataRow: 0x44, // D
  ErrorResponse: 0x45, // E
  CopyInResponse: 0x47, // G
  CopyOutResponse: 0x48, // H
  EmptyQueryResponse: 0x49, // I
  BackendKeyData: 0x4b, // K
  NoticeResponse: 0x4e, // N
  Authentication: 0x52, // R
  ParameterStatus: 0x53, // S
  RowDescription: 0x54, // T
  FunctionCallResponse: 0x56, // V
  CopyBothResponse: 0x57, // W
  ReadyForQuery: 0x5a, // Z
  CopyDone: 0x63, // c
  CopyData: 0x64, // d
  NoData: 0x6e, // n
  PortalSuspended: 0x73, // s
  ParameterDescription: 0x74, // t
  NegotiateProtocolVersion: 0x76, // v
} as const;

/** Type byte of each typed message the client sends. */
export const FrontendCode = {
  Bind: 0x42, // B
  Close: 0x43, // C
  Describe: 0x44, // D
  Execute: 0x45, // E
  FunctionCall: 0x46, // F
  Flush: 0x48, // H
  Parse: 0x50, // P
  Query: 0x51, // Q
  Sync: 0x53, // S
  Terminate: 0x58, // X
  CopyDone: 0x63, // c
  CopyData: 0x64, // d
  CopyFail: 0x66, // f
  /** PasswordMessage, SASLInitialResponse, SASLResponse and GSSResponse share 'p'. */
  PasswordMessage: 0x70, // p
  SASLInitialResponse: 0x70, // p
  SASLResponse: 0x70, // p
  GSSResponse: 0x70, // p
} as const;

/**
 * The Int32 after the length of an untyped startup-phase message: a protocol version
 * (major << 16 | minor) or a request code.
 * https://www.postgresql.org/docs/17/protocol-message-formats.html
 */
export const RequestCode = {
  /** Protocol 3.0. */
  ProtocolVersion3: 196608, // 3 << 16
  CancelRequest: 80877102, // 1234 << 16 | 5678
  SSLRequest: 80877103, // 1234 << 16 | 5679
  GSSENCRequest: 80877104, // 1234 << 16 | 5680
} as const;

/** The Int32 that starts every Authentication ('R') message body. */
export const AuthCode = {
  Ok: 0,
  KerberosV5: 2,
  CleartextPassword: 3,
  MD5Password: 5,
  GSS: 7,
  GSSContinue: 8,
  SSPI: 9,
  SASL: 10,
  SASLContinue: 11,
  SASLFinal: 12,
} as const;

/**
 * First byte of CopyData payloads in a streaming-replication CopyBoth stream.
 * https://www.postgresql.org/docs/17/protocol-replication.html
 */
export const ReplicationCode = {
  XLogData: 0x77, // w
  PrimaryKeepalive: 0x6b, // k
  StandbyStatusUpdate: 0x72, // r
  HotStandbyFeedback: 0x68, // h
} as const;

/**
 * First byte of CopyData payloads in the CopyOut stream of BASE_BACKUP (PostgreSQL 15+).
 * https://www.postgresql.org/docs/17/protocol-replication.html#PROTOCOL-REPLICATION-BASE-BACKUP
 */
export const BaseBackupCode = {
  /** String archive name, String tablespace location. */
  NewArchive: 0x6e, // n
  /** No payload; the data messages that follow are the backup manifest. */
  Manifest: 0x6d, // m
  /** Bytes of the current archive or of the manifest. */
  Data: 0x64, // d
  /** Int64 bytes processed so far (PROGRESS option). */
  Progress: 0x70, // p
} as const;
