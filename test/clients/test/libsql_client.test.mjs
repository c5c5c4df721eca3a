// @libsql/client over http:// (Hrana over HTTP v2) against monolite: values, batches, multiple
// statements, migrate(), the statement cache, and many calls at once.
import assert from "node:assert/strict";
import { after, before, describe, test } from "node:test";
import { createClient } from "@libsql/client";
import { startServer } from "./server.mjs";

describe("@libsql/client", () => {
  let server;
  let client;
  let big;

  before(async () => {
    server = await startServer();
    client = createClient({ url: server.url });
    big = createClient({ url: server.url, intMode: "bigint" });
  });

  after(async () => {
    client?.close();
    big?.close();
    await server?.stop();
  });

  test("every value type goes in and comes back exactly", async () => {
    await client.execute("CREATE TABLE vals(id INTEGER PRIMARY KEY, i INTEGER, r REAL, t TEXT, b BLOB, n)");
    const blob = new Uint8Array([0, 1, 2, 253, 254, 255, 7]);
    const ins = await client.execute({
      sql: "INSERT INTO vals(i, r, t, b, n) VALUES (?, ?, ?, ?, ?)",
      args: [42n, 1.5, "héllo \u{1F600} \"q\"", blob, null],
    });
    assert.equal(ins.rowsAffected, 1);
    assert.equal(ins.lastInsertRowid, 1n);
    const rs = await client.execute("SELECT i, r, t, b, n, 3.0 AS whole, true AS flag FROM vals");
    assert.deepEqual(rs.columns, ["i", "r", "t", "b", "n", "whole", "flag"]);
    assert.deepEqual(rs.columnTypes, ["INTEGER", "REAL", "TEXT", "BLOB", "", "", ""]);
    const row = rs.rows[0];
    assert.equal(row.i, 42);
    assert.equal(row.r, 1.5);
    assert.equal(row.t, "héllo \u{1F600} \"q\"");
    assert.deepEqual(new Uint8Array(row.b), blob);
    assert.equal(row.n, null);
    assert.equal(row.whole, 3);
    assert.equal(row.flag, 1);
  });

  test("intMode bigint keeps 64-bit integers exact", async () => {
    await big.execute("CREATE TABLE ints(v INTEGER)");
    const values = [9007199254740993n, -9223372036854775808n, 9223372036854775807n, 0n];
    for (const v of values) await big.execute({ sql: "INSERT INTO ints VALUES (?)", args: [v] });
    const rs = await big.execute("SELECT v FROM ints ORDER BY rowid");
    assert.deepEqual(rs.rows.map((r) => r.v), values);
    const named = await big.execute({ sql: "SELECT :x + 1 AS y", args: { x: 9007199254740993n } });
    assert.equal(named.rows[0].y, 9007199254740994n);
    await assert.rejects(client.execute("SELECT 9007199254740993"), RangeError);
  });

  test("write batch commits every statement and returns their results", async () => {
    await client.execute("CREATE TABLE items(id INTEGER PRIMARY KEY, name TEXT UNIQUE)");
    const results = await client.batch(
      [
        { sql: "INSERT INTO items(name) VALUES (?)", args: ["a"] },
        { sql: "INSERT INTO items(name) VALUES (?)", args: ["b"] },
        "SELECT count(*) AS n FROM items",
      ],
      "write",
    );
    assert.equal(results.length, 3);
    assert.equal(results[1].lastInsertRowid, 2n);
    assert.equal(results[2].rows[0].n, 2);
  });

  test("a failing step rolls the whole batch back", async () => {
    await client.execute("CREATE TABLE uniq(name TEXT UNIQUE)");
    await client.execute("INSERT INTO uniq VALUES ('taken')");
    for (const mode of ["write", "deferred"]) {
      await assert.rejects(
        client.batch(["INSERT INTO uniq VALUES ('new')", "INSERT INTO uniq VALUES ('taken')"], mode),
        (e) => e.code === "SQLITE_CONSTRAINT" && /UNIQUE/.test(e.message),
      );
      const rs = await client.execute("SELECT name FROM uniq ORDER BY name");
      assert.deepEqual(rs.rows.map((r) => r.name), ["taken"], mode);
    }
  });

  test("read and deferred batches read", async () => {
    await client.execute("CREATE TABLE r(v)");
    await client.execute("INSERT INTO r VALUES (1), (2)");
    const [read] = await client.batch(["SELECT sum(v) AS s FROM r"], "read");
    assert.equal(read.rows[0].s, 3);
    const [deferred] = await client.batch(["SELECT count(*) AS c FROM r"], "deferred");
    assert.equal(deferred.rows[0].c, 2);
    await assert.rejects(client.batch(["INSERT INTO r VALUES (3)"], "read"), (e) => e.code === "SQLITE_READONLY");
  });

  test("SQL errors carry SQLite's base code", async () => {
    await assert.rejects(client.execute("SELECT * FROM missing_table"), (e) => e.code === "SQLITE_ERROR");
    await assert.rejects(client.execute("SELEC 1"), (e) => e.code === "SQLITE_ERROR");
    await assert.rejects(client.execute("SELECT 1; SELECT 2"), (e) => e.code === "SQL_MANY_STATEMENTS");
    await assert.rejects(client.execute("ATTACH 'x.db' AS x"), (e) => e.code === "SQLITE_AUTH");
    await assert.rejects(client.execute("VACUUM"), (e) => e.code === "SQLITE_AUTH");
  });

  test("executeMultiple runs a script", async () => {
    await client.executeMultiple(`
      CREATE TABLE script(a);  -- a comment; with a semicolon
      INSERT INTO script VALUES ('x;y');
      /* block; comment */ INSERT INTO script VALUES (2);
    `);
    const rs = await client.execute("SELECT a FROM script ORDER BY rowid");
    assert.deepEqual(rs.rows.map((r) => r.a), ["x;y", 2]);
    await assert.rejects(client.executeMultiple("INSERT INTO script VALUES (3); SELECT * FROM nope;"), (e) =>
      e.code === "SQLITE_ERROR",
    );
  });

  test("migrate() runs with foreign keys off, and they are on again afterwards", async () => {
    await client.executeMultiple(`
      CREATE TABLE parent(id INTEGER PRIMARY KEY);
      CREATE TABLE child(id INTEGER PRIMARY KEY, parent_id INTEGER REFERENCES parent(id));
      INSERT INTO parent VALUES (1);
      INSERT INTO child VALUES (1, 1);
    `);
    // Rebuilding a referenced table is what migrations do; with foreign keys on, the DROP fails.
    await assert.rejects(client.batch(["DROP TABLE parent"], "write"), (e) => e.code === "SQLITE_CONSTRAINT");
    await client.migrate([
      "CREATE TABLE parent_new(id INTEGER PRIMARY KEY, label TEXT)",
      "INSERT INTO parent_new(id) SELECT id FROM parent",
      "DROP TABLE parent",
      "ALTER TABLE parent_new RENAME TO parent",
    ]);
    const rs = await client.execute("SELECT id, label FROM parent");
    assert.deepEqual(rs.rows.map((r) => [r.id, r.label]), [[1, null]]);
    await assert.rejects(client.execute("INSERT INTO child VALUES (2, 99)"), (e) => e.code === "SQLITE_CONSTRAINT");
  });

  test("the statement cache works past its 30 entries", async () => {
    await client.execute("CREATE TABLE cache(k INTEGER, v TEXT)");
    const stmts = [];
    for (let i = 0; i < 45; i++) stmts.push({ sql: `INSERT INTO cache VALUES (${i}, ?)`, args: [`v${i}`] });
    await client.batch(stmts, "write");
    const tx = await client.transaction("write");
    try {
      for (let round = 0; round < 2; round++)
        for (let i = 0; i < 40; i++) {
          const rs = await tx.execute({ sql: `SELECT v FROM cache WHERE k = ${i} AND ? = ?`, args: [round, round] });
          assert.equal(rs.rows[0].v, `v${i}`);
        }
      await tx.commit();
    } finally {
      tx.close();
    }
  });

  test("a hundred calls at once", async () => {
    await client.execute("CREATE TABLE par(id INTEGER PRIMARY KEY, n INTEGER)");
    const calls = [];
    for (let i = 0; i < 100; i++) {
      calls.push(
        i % 4 === 3
          ? client.execute("SELECT count(*) AS c FROM par")
          : client.execute({ sql: "INSERT INTO par(n) VALUES (?)", args: [i] }),
      );
    }
    const results = await Promise.all(calls);
    assert.equal(results.length, 100);
    const rs = await client.execute("SELECT count(*) AS c FROM par");
    assert.equal(rs.rows[0].c, 75);
  });
});
