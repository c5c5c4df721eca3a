// Writes through an embedded replica of @libsql/client, for test/integration/test_libsql_proxy.py:
// the replica reads locally and delegates writes to the server's proxy.Proxy routes.
//
//   node embedded_writes.mjs SYNC_URL LOCAL_DB [TOKEN]
//
// Creates table `embedded` and inserts two rows (positional, then named arguments), each write a
// step of its own, then reads the table locally (the client syncs after each write, so the rows are
// there without an explicit sync). Prints one JSON line {"create", "insert_positional",
// "insert_named", "local_read": error message or null, "rows_affected": n, "local_rows": [[id,
// name]]}, for the caller to judge. Exits 0 when it ran, 2 on bad usage, 1 when the client could not
// even be opened.
import { createClient } from "@libsql/client";

const [syncUrl, localDb, authToken] = process.argv.slice(2);
if (!syncUrl || !localDb) {
  console.error("usage: node embedded_writes.mjs SYNC_URL LOCAL_DB [TOKEN]");
  process.exit(2);
}

const report = { create: null, insert_positional: null, insert_named: null, local_read: null, rows_affected: null,
                 local_rows: null };
let client;
try {
  client = createClient({ url: `file:${localDb}`, syncUrl, authToken });
} catch (e) {
  console.error(`cannot open the embedded replica: ${e.message}`);
  process.exit(1);
}

async function step(name, run) {
  try {
    await run();
  } catch (e) {
    report[name] = String(e?.message ?? e);
  }
}

await step("create", () => client.execute("CREATE TABLE embedded(id INTEGER PRIMARY KEY, name TEXT)"));
await step("insert_positional", async () => {
  const inserted = await client.execute({ sql: "INSERT INTO embedded VALUES (?, ?)", args: [1, "one"] });
  report.rows_affected = inserted.rowsAffected;
});
await step("insert_named", () =>
  client.execute({ sql: "INSERT INTO embedded VALUES (:id, :name)", args: { id: 2, name: "two" } }));
await step("local_read", async () => {
  const local = await client.execute("SELECT id, name FROM embedded ORDER BY id");
  report.local_rows = local.rows.map((row) => [row[0], row[1]]);
});
client.close();
console.log(JSON.stringify(report));
