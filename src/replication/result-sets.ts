import {
  BackendCode,
  ProtocolError,
  readCommandComplete,
  readDataRow,
  readRowDescription,
} from "../protocol/index.js";

export interface ResultSet {
  readonly columns: readonly string[];
  /** Text-format values; replication commands send text. */
  readonly rows: readonly (readonly (string | null)[])[];
  /** The CommandComplete tag, "" while the set is open. */
  tag: string;
}

/**
 * Collects RowDescription, DataRow and CommandComplete into result sets. A CommandComplete with
 * no RowDescription before it (e.g. "DROP_REPLICATION_SLOT") is a set with no columns.
 * https://www.postgresql.org/docs/17/protocol-flow.html#PROTOCOL-FLOW-SIMPLE-QUERY
 */
export class ResultSets {
  readonly sets: ResultSet[] = [];
  private open: { columns: string[]; rows: (string | null)[][]; tag: string } | undefined;

  /** Takes the message if it is one of the three; returns whether it did. */
  take(code: number, body: Buffer): boolean {
    switch (code) {
      case BackendCode.RowDescription:
        if (this.open) throw new ProtocolError("RowDescription inside an open result set");
        this.open = { columns: readRowDescription(body).map((f) => f.name), rows: [], tag: "" };
        this.sets.push(this.open);
        return true;
      case BackendCode.DataRow: {
        if (!this.open) throw new ProtocolError("DataRow without RowDescription");
        const row = readDataRow(body).map((c) => (c === null ? null : c.toString("utf8")));
        if (row.length !== this.open.columns.length) {
          throw new ProtocolError(
            `DataRow has ${row.length} columns, RowDescription ${this.open.columns.length}`,
          );
        }
        this.open.rows.push(row);
        return true;
      }
      case BackendCode.CommandComplete: {
        const tag = readCommandComplete(body);
        if (this.open) this.open.tag = tag;
        else this.sets.push({ columns: [], rows: [], tag });
        this.open = undefined;
        return true;
      }
      default:
        return false;
    }
  }
}
