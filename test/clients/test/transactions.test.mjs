// Interactive transactions of @libsql/client: each one leases monolite's single writer across
// HTTP requests, so an abandoned one must time out and let everyone else write.
import assert from "node:assert/strict";
import { after, before, describe, test } from "node:test";
import { createClient } from "@libsql/client";
import { startServer } from "./server.mjs";

describe("interactive transactions", () => {
  let server;
  let client;
  let other;

  before(async () => {
    server = await startServer({ args: ["--transaction-timeout", "1"] });
    client = createClient({ url: server.url });
    other = createClient({ url: server.url });
    await client.execute("CREATE TABLE acct(id INTEGER PRIMARY KEY, owner TEXT, balance INTEGER)");
  });

  after(async () => {
    client?.close();
    other?.close();
    await server?.stop();
  });

  const owners = async () =>
    (await other.execute("SELECT owner FROM acct ORDER BY id")).rows.map((r) => r.owner);

  test("commit makes the writes visible; until then only the transaction sees them", async () => {
    const tx = await client.transaction("write");
    await tx.execute({ sql: "INSERT INTO acct(owner, balance) VALUES (?, ?)", args: ["ann", 10] });
    const inside = await tx.execute("SELECT owner FROM acct");
    assert.deepEqual(inside.rows.map((r) => r.owner), ["ann"]);
    assert.deepEqual(await owners(), []);  // other readers do not see uncommitted rows
    await tx.execute({ sql: "UPDATE acct SET balance = balance + ? WHERE owner = ?", args: [5, "ann"] });
    await tx.commit();
    const rs = await other.execute("SELECT owner, balance FROM acct");
    assert.deepEqual(rs.rows.map((r) => [r.owner, r.balance]), [["ann", 15]]);
  });

  test("rollback discards the writes", async () => {
    const tx = await client.transaction("write");
    await tx.execute("INSERT INTO acct(owner, balance) VALUES ('bob', 1)");
    await tx.rollback();
    assert.deepEqual(await owners(), ["ann"]);
  });

  test("a failing statement leaves the transaction usable", async () => {
    const tx = await client.transaction("write");
    try {
      await tx.execute("INSERT INTO acct(owner, balance) VALUES ('cid', 1)");
      await assert.rejects(tx.execute("INSERT INTO acct(id, owner) VALUES (1, 'dup')"), (e) =>
        e.code === "SQLITE_CONSTRAINT",
      );
      await tx.commit();
    } finally {
      tx.close();
    }
    assert.deepEqual(await owners(), ["ann", "cid"]);
  });

  test("read transactions see one snapshot and refuse writes", async () => {
    const tx = await client.transaction("read");
    try {
      const before = await tx.execute("SELECT count(*) AS c FROM acct");
      await other.execute("INSERT INTO acct(owner, balance) VALUES ('dan', 1)");
      const again = await tx.execute("SELECT count(*) AS c FROM acct");
      assert.equal(again.rows[0].c, before.rows[0].c);
      await assert.rejects(tx.execute("DELETE FROM acct"), (e) => e.code === "SQLITE_READONLY");
      await tx.commit();
    } finally {
      tx.close();
    }
    assert.deepEqual(await owners(), ["ann", "cid", "dan"]);
  });

  test("an abandoned transaction times out; other writers proceed and its writes are gone", async () => {
    const abandoned = await client.transaction("write");
    await abandoned.execute("INSERT INTO acct(owner, balance) VALUES ('ghost', 100)");
    const started = Date.now();
    await other.execute("INSERT INTO acct(owner, balance) VALUES ('eve', 2)");  // waits for the lease
    const waited = Date.now() - started;
    assert.ok(waited >= 500 && waited < 10_000, `waited ${waited} ms`);
    assert.deepEqual(await owners(), ["ann", "cid", "dan", "eve"]);
    await assert.rejects(abandoned.execute("SELECT 1"), (e) => e.code === "TRANSACTION_TIMEOUT");
    abandoned.close();
    const ghosts = await other.execute("SELECT count(*) AS c FROM acct WHERE owner = 'ghost'");
    assert.equal(ghosts.rows[0].c, 0);
  });

  test("deferred transactions read and write", async () => {
    const tx = await client.transaction("deferred");
    try {
      await tx.execute("UPDATE acct SET balance = balance * 2");
      const rs = await tx.execute("SELECT sum(balance) AS s FROM acct");
      assert.equal(rs.rows[0].s, 2 * (15 + 1 + 1 + 2));
      await tx.commit();
    } finally {
      tx.close();
    }
  });
});
