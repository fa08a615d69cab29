import assert from "node:assert/strict";
import { describe, test } from "node:test";
import {
  account,
  accountHost,
  accountHostAdmits,
  grantDatabase,
  ident,
  literal,
  maskPasswords,
  nativePasswordHash,
} from "./index.js";

describe("MariaDB quoting", () => {
  test("identifiers are backquoted with embedded backticks doubled", () => {
    assert.equal(ident("orders"), "`orders`");
    assert.equal(ident("we`ird name"), "`we``ird name`");
    assert.throws(() => ident("a\0b"), /NUL/);
  });

  test("literals double quotes and escape backslashes and control characters", () => {
    assert.equal(literal("it's"), "'it''s'");
    assert.equal(literal("a\\b"), "'a\\\\b'");
    assert.equal(literal("l1\nl2\r\0\x1a"), "'l1\\nl2\\r\\0\\Z'");
    assert.equal(literal("Zoë 東京 🚀"), "'Zoë 東京 🚀'");
  });

  test("accounts are 'user'@'host' from literals", () => {
    assert.equal(account("o'brien", "127.0.0.1"), "'o''brien'@'127.0.0.1'");
  });

  test("GRANT database names escape the _ and % wildcards", () => {
    assert.equal(grantDatabase("my_db%"), "`my\\_db\\%`");
  });

  test("from: addresses become account hosts: CIDR as network/netmask, /32 bare, /0 as %", () => {
    assert.equal(accountHost("127.0.0.1"), "127.0.0.1");
    assert.equal(accountHost("10.1.2.3/32"), "10.1.2.3");
    assert.equal(accountHost("10.1.2.3/24"), "10.1.2.0/255.255.255.0");
    assert.equal(accountHost("172.16.0.0/12"), "172.16.0.0/255.240.0.0");
    assert.equal(accountHost("0.0.0.0/0"), "%");
    assert.ok(accountHostAdmits("10.1.2.0/255.255.255.0", "10.1.2.77"));
    assert.ok(!accountHostAdmits("10.1.2.0/255.255.255.0", "10.1.3.1"));
    assert.ok(accountHostAdmits("%", "192.0.2.1"));
    assert.ok(!accountHostAdmits("127.0.0.1", "127.0.0.2"));
  });

  test("passwords travel as mysql_native_password hashes and are masked in plans", () => {
    // SELECT PASSWORD('s3cret') on MariaDB 10.11.
    assert.equal(nativePasswordHash("s3cret"), "*B865CAE8F340F6CE1485A06F4492BB49718DF1EC");
    assert.equal(
      maskPasswords(
        "ALTER USER 'a'@'h' IDENTIFIED BY PASSWORD '*B865CAE8' WITH MAX_USER_CONNECTIONS 0",
      ),
      "ALTER USER 'a'@'h' IDENTIFIED BY PASSWORD '********' WITH MAX_USER_CONNECTIONS 0",
    );
  });
});
