import type { MariadbColumn, MariadbTable } from "../mariadb/index.js";
import type { ObservedDatabaseContent, Problem, Step } from "../pgadmin/index.js";
import {
  commentOnRelation,
  ident,
  importForeignSchema,
  literal,
  qualified,
} from "../pgadmin/index.js";
import type { MeshLink } from "../topology/index.js";
import { diffImport } from "./foreign-import.js";
import { grantsToMapped, linkStep } from "./link-step.js";

// A mysql_fdw link: PostgreSQL reads (and, when `import.writable`, writes) a MariaDB database
// through foreign tables made by IMPORT FOREIGN SCHEMA. mysql_fdw types each column from
// information_schema.COLUMNS.DATA_TYPE (its README, "IMPORT FOREIGN SCHEMA"), which drops
// UNSIGNED and BIT's width and knows no YEAR or SET: dbmesh maps every column itself first, so
// a column that would overflow is widened after the import, and one with no PostgreSQL
// counterpart is refused with its name instead of failing (YEAR) or vanishing (SET) silently.

/** IMPORT FOREIGN SCHEMA options (mysql_fdw README): ENUM as text, NOT NULL kept, no defaults. */
const importOptions = {
  import_enum_as_text: "true",
  import_not_null: "true",
  import_default: "false",
} as const;

/** What one MariaDB column becomes on PostgreSQL. */
export type ColumnMapping =
  | {
      readonly kind: "mapped";
      /** The column's type as format_type() prints it after the import (and the ALTER). */
      readonly type: string;
      /** Set when mysql_fdw's own type would lose values: the import is followed by ALTER … TYPE. */
      readonly alter: boolean;
      /** Said in the plan: what a user should know about the mapping. */
      readonly note: string | undefined;
    }
  | { readonly kind: "refused"; readonly reason: string; readonly fix: string };

const plain = (type: string, note?: string): ColumnMapping => ({
  kind: "mapped",
  type,
  alter: false,
  note,
});
const widened = (type: string, note: string): ColumnMapping => ({
  kind: "mapped",
  type,
  alter: true,
  note,
});

const spatial = new Set([
  "geometry",
  "point",
  "linestring",
  "polygon",
  "multipoint",
  "multilinestring",
  "multipolygon",
  "geometrycollection",
]);

/** The PostgreSQL type of a MariaDB column on a mysql_fdw foreign table, or why there is none. */
export function mapMariadbColumn(c: MariadbColumn): ColumnMapping {
  const unsigned = /\bunsigned\b/i.test(c.columnType);
  const width = /\((\d+)/.exec(c.columnType)?.[1];
  switch (c.dataType) {
    case "tinyint":
      return plain("smallint");
    case "smallint":
      return unsigned
        ? widened("integer", "SMALLINT UNSIGNED → integer (smallint stops at 32767)")
        : plain("smallint");
    case "mediumint":
      return plain("integer");
    case "int":
    case "integer":
      return unsigned
        ? widened("bigint", "INT UNSIGNED → bigint (integer stops at 2147483647)")
        : plain("integer");
    case "bigint":
      return unsigned
        ? widened("numeric(20,0)", "BIGINT UNSIGNED → numeric(20,0) (bigint stops at 2^63-1)")
        : plain("bigint");
    case "decimal":
    case "numeric":
      // mysql_fdw imports DATA_TYPE only: numeric without a typmod keeps every value exactly.
      return plain("numeric");
    case "float":
      return plain("real");
    case "double":
    case "real":
      return plain("double precision");
    case "char":
      return plain(`character(${width ?? 1})`);
    case "varchar":
      return plain(width ? `character varying(${width})` : "character varying");
    case "tinytext":
    case "text":
    case "mediumtext":
    case "longtext":
    case "json":
      return plain("text");
    case "blob":
    case "mediumblob":
    case "longblob":
    case "binary":
    case "varbinary":
      return plain("bytea");
    case "date":
      return plain("date");
    case "datetime":
    case "timestamp":
      return plain("timestamp without time zone");
    case "time":
      return plain(
        "time without time zone",
        "TIME → time (values outside 00:00:00–24:00:00, which MariaDB allows, fail to read)",
      );
    case "enum":
      return plain("text", `${c.columnType} → text (MariaDB checks values on write)`);
    case "bit":
      return width && width !== "1"
        ? widened(`bit(${width})`, `BIT(${width}) → bit(${width}) (mysql_fdw would make it bit(1))`)
        : plain("bit(1)");
    case "uuid":
      return plain("uuid");
    case "year":
      return {
        kind: "refused",
        reason:
          "YEAR, which mysql_fdw imports as a type PostgreSQL does not have (IMPORT FOREIGN SCHEMA fails)",
        fix: "SMALLINT",
      };
    case "set":
      return {
        kind: "refused",
        reason: `${c.columnType}, for which mysql_fdw has no PostgreSQL type (IMPORT FOREIGN SCHEMA skips the table without an error)`,
        fix: "VARCHAR(255)",
      };
    case "tinyblob":
      return {
        kind: "refused",
        reason: "TINYBLOB, which mysql_fdw imports as a type PostgreSQL does not have",
        fix: "BLOB",
      };
    default:
      return {
        kind: "refused",
        reason: spatial.has(c.dataType)
          ? `${c.dataType.toUpperCase()}, a spatial type mysql_fdw cannot read`
          : `${c.columnType}, which has no PostgreSQL mapping in mysql_fdw`,
        fix: spatial.has(c.dataType) ? "" : "a type mysql_fdw maps (VARCHAR, INT, …)",
      };
  }
}

/** What is known of a mysql_fdw link's MariaDB database when planning. */
export interface MysqlRemote {
  /** Its tables; undefined when the database cannot be read (yet). */
  readonly tables: ReadonlyMap<string, MariadbTable> | undefined;
  /** Earlier steps of this apply create the database or run its seeds. */
  readonly pending: boolean;
  /** Why it could not be read, when the node is down or refuses dbmesh. */
  readonly error: string | undefined;
  /** 'user'@'host' the link owner's mapping logs in as, for messages. */
  readonly ownerAccount: string;
}

/** Privileges the link's non-owner local roles get on each foreign table. */
export function localPrivileges(link: MeshLink): string[] {
  return link.import?.writable ? ["SELECT", "INSERT", "UPDATE", "DELETE"] : ["SELECT"];
}

/**
 * Phase 3 of a mysql_fdw link: IMPORT FOREIGN SCHEMA of the MariaDB tables into the local
 * schema, columns mapped as `mapMariadbColumn` says, then kept in step: a table whose columns
 * changed on MariaDB (ALTER TABLE) is dropped and imported again.
 */
export function planMysqlImport(
  link: MeshLink,
  have: ObservedDatabaseContent,
  remote: MysqlRemote,
  prune: boolean,
): { steps: Step[]; problems: Problem[] } {
  const steps: Step[] = [];
  const problems: Problem[] = [];
  const imp = link.import;
  if (!imp) return { steps, problems };
  const where = `${link.to.node}/${link.to.database}`;
  const summary = `import ${imp.schema} from ${where} into ${imp.into}`;
  const problem = (message: string, hint: string) =>
    problems.push({ node: link.from.node, message: `links[${link.index}]: ${message}`, hint });
  if (remote.error) {
    problem(
      `cannot read ${where}: ${remote.error}`,
      `bring ${link.to.node} up, then run apply again`,
    );
    return { steps, problems };
  }
  const tables = remote.tables;
  if (!tables) return { steps: [linkStep(link, summary, [], true)], problems };

  const wanted: MariadbTable[] = [];
  for (const name of imp.tables ?? [...tables.keys()].sort()) {
    const t = tables.get(name);
    if (t) wanted.push(t);
    else if (remote.pending) return { steps: [linkStep(link, summary, [], true)], problems };
    else
      problem(
        `import: MariaDB table ${imp.schema}.${name} does not exist in ${where}`,
        tables.size
          ? `tables there: ${[...tables.keys()].sort().join(", ")}`
          : `database ${imp.schema} has no tables there; create the table or fix the name`,
      );
  }
  if (!imp.tables && !wanted.length && !remote.pending)
    problem(
      `MariaDB database ${imp.schema} in ${where} has no tables to import`,
      "create the tables there first",
    );

  const mapped = new Map<string, { table: MariadbTable; columns: ExpectedColumn[] }>();
  for (const t of wanted) {
    const m = expectedColumns(t);
    if ("refused" in m)
      problem(
        `import: ${imp.schema}.${t.name} cannot be imported through mysql_fdw: column ${m.refused.column} is ${m.refused.reason}`,
        `change the column on ${link.to.node} (${m.refused.fix ? `ALTER TABLE ${t.name} MODIFY ${m.refused.column} ${m.refused.fix}` : "drop it or move it to another table"}), or leave ${t.name} out of import.tables`,
      );
    else mapped.set(t.name, { table: t, columns: m.columns });
  }
  const { toImport, sql, notes, grants } = diffImport(
    link,
    have,
    wanted.map((t) => ({ name: t.name, columns: mapped.get(t.name)?.columns })),
    prune,
    localPrivileges(link),
    problems,
    "MariaDB",
  );
  if (toImport.length) {
    sql.push(
      importForeignSchema(imp.schema, [...toImport].sort(), link.server, imp.into, importOptions),
    );
    for (const { table, columns } of toImport.map((name) => mapped.get(name)!)) {
      // IMPORT FOREIGN SCHEMA lists only the tables the MariaDB user may read: a table it cannot
      // see is skipped without an error, so its absence is the error, naming the grant.
      sql.push(
        mustExist(
          imp.into,
          table.name,
          `mysql_fdw did not import ${imp.schema}.${table.name}: ${remote.ownerAccount} cannot read it on ${link.to.node}`,
          `grant it SELECT ON ${imp.schema}.* (dbmesh apply does, for users it manages), or check that the table still exists`,
        ),
      );
      for (const c of columns) {
        if (c.alter)
          sql.push(
            `ALTER FOREIGN TABLE ${qualified(imp.into, table.name)} ALTER COLUMN ${ident(c.name)} TYPE ${c.type}`,
          );
        if (c.note) notes.push(`${table.name}.${c.name}: ${c.note}`);
      }
      if (imp.writable) {
        const first = table.columns[0];
        if (first && first.key !== "PRI" && first.key !== "UNI")
          notes.push(
            `${table.name}: UPDATE and DELETE need its first column unique on MariaDB (mysql_fdw); ${first.name} is not, so only INSERT works`,
          );
      }
      sql.push(commentOnRelation("FOREIGN TABLE", imp.into, table.name));
      grants.push(...grantsToMapped(link, imp.into, table.name, [], localPrivileges(link)));
    }
  }
  sql.push(...grants);
  if (sql.length) {
    const what = notes.length
      ? `${summary}: ${notes.join("; ")}`
      : `grant ${localPrivileges(link).join(", ")} on ${imp.into} tables`;
    steps.push(linkStep(link, what, sql));
  }
  return { steps, problems };
}

interface ExpectedColumn {
  readonly name: string;
  readonly type: string;
  readonly notNull: boolean;
  readonly alter: boolean;
  readonly note: string | undefined;
}

/** Every column's PostgreSQL side, or the first one that has none. */
function expectedColumns(
  t: MariadbTable,
): { columns: ExpectedColumn[] } | { refused: { column: string; reason: string; fix: string } } {
  const columns: ExpectedColumn[] = [];
  for (const c of t.columns) {
    const m = mapMariadbColumn(c);
    if (m.kind === "refused") return { refused: { column: c.name, reason: m.reason, fix: m.fix } };
    columns.push({ name: c.name, type: m.type, notNull: c.notNull, alter: m.alter, note: m.note });
  }
  return { columns };
}

/** A statement that fails with `message` and `hint` unless `schema.name` exists. */
function mustExist(schema: string, name: string, message: string, hint: string): string {
  const body = `BEGIN IF to_regclass(${literal(qualified(schema, name))}) IS NULL THEN RAISE EXCEPTION USING MESSAGE = ${literal(message)}, HINT = ${literal(hint)}, ERRCODE = '42501'; END IF; END`;
  return `DO ${literal(body)}`;
}

/** What to install when a node's PostgreSQL has no mysql_fdw (Debian builds it per major version). */
export function mysqlFdwMissingHint(version: string): string {
  const major = /^(\d+)/.exec(version)?.[1] ?? "15";
  return `install the Debian package postgresql-${major}-mysql-fdw on the node's host (apt install postgresql-${major}-mysql-fdw); it builds for the system's PostgreSQL only, so the node needs binaries: /usr/lib/postgresql/${major}/bin (or system)`;
}
