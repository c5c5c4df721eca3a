// One embedded replica of @libsql/client, driven by test/integration/test_embedded_replica.py.
//
//   node embedded_replica.mjs ANSWERS_FD
//
// Reads one JSON command a line on stdin and answers each with one JSON line on file descriptor
// ANSWERS_FD (the native client logs to stdout), in order:
//   {"op": "open", "path", "syncUrl", "authToken"?, "syncInterval"?}  -> null
//   {"op": "sync"}                                                   -> {"frame_no", "frames_synced"}
//   {"op": "query" | "execute", "sql", "args"?}                      -> a result set
//   {"op": "batch", "statements": [{"sql", "args"?}], "mode"?}       -> [result set]
//   {"op": "close"}                                                  -> null
// A result set is {"columns", "rows": [[value]], "rows_affected", "last_insert_rowid"}; a blob is
// {"base64": ...}. An answer is {"ok": true, "result"} or {"ok": false, "error", "code"} (the
// client's error, message and code as it gives them). Exits 0 at the end of stdin.
import { createClient } from "@libsql/client";
import { writeSync } from "node:fs";
import { createInterface } from "node:readline";

const answers_fd = Number(process.argv[2]);
if (!Number.isInteger(answers_fd)) {
  console.error("usage: node embedded_replica.mjs ANSWERS_FD");
  process.exit(2);
}

let client = null;

function value_of(v) {
  if (v instanceof ArrayBuffer) return { base64: Buffer.from(v).toString("base64") };
  if (typeof v === "bigint") return v.toString();
  return v;
}

function result_set(rs) {
  return {
    columns: rs.columns,
    rows: rs.rows.map((row) => rs.columns.map((_, i) => value_of(row[i]))),
    rows_affected: rs.rowsAffected,
    last_insert_rowid: rs.lastInsertRowid === undefined ? null : Number(rs.lastInsertRowid),
  };
}

function statement(cmd) {
  return cmd.args === undefined ? cmd.sql : { sql: cmd.sql, args: cmd.args };
}

const ops = {
  open: async (cmd) => {
    client = createClient({ url: `file:${cmd.path}`, syncUrl: cmd.syncUrl, authToken: cmd.authToken,
                            syncInterval: cmd.syncInterval });
    return null;
  },
  sync: async () => {
    const done = await client.sync();
    return { frame_no: done?.frame_no ?? null, frames_synced: done?.frames_synced ?? null };
  },
  query: async (cmd) => result_set(await client.execute(statement(cmd))),
  execute: async (cmd) => result_set(await client.execute(statement(cmd))),
  batch: async (cmd) => (await client.batch(cmd.statements.map(statement), cmd.mode ?? "write")).map(result_set),
  close: async () => {
    client?.close();
    client = null;
    return null;
  },
};

async function answer(line) {
  let cmd;
  try {
    cmd = JSON.parse(line);
    const op = ops[cmd.op];
    if (!op) throw new Error(`unknown op ${cmd.op}`);
    return { ok: true, result: await op(cmd) };
  } catch (e) {
    return { ok: false, error: String(e?.message ?? e), code: e?.code ?? null };
  }
}

for await (const line of createInterface({ input: process.stdin })) {
  if (!line.trim()) continue;
  const bytes = Buffer.from(JSON.stringify(await answer(line)) + "\n");
  for (let at = 0; at < bytes.length; ) at += writeSync(answers_fd, bytes, at);
}
client?.close();
