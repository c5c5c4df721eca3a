// Point reads and replica syncs from Node.js for bench/harness/replica_bench.py (bench/run.sh --replicas).
//
//   node embedded_reads.mjs embedded  --sync-url URL --local FILE --rows N --seconds S --warmup W
//   node embedded_reads.mjs http      --url URL --clients C --rows N --seconds S --warmup W
//   node embedded_reads.mjs hrana     --url URL --clients C --rows N --seconds S --warmup W
//   node embedded_reads.mjs sync-loop --sync-url URL --local FILE
//
// embedded: an embedded replica of @libsql/client (file FILE, synced once from URL), then a closed loop of
//   `SELECT id, name, balance FROM accounts WHERE id = ?` on the local file, one read at a time.
// http: the same read as POST URL/sql/query, C concurrent fetches (keep-alive) in this one process.
// hrana: the same read through @libsql/client over Hrana (url: URL), C concurrent executes on one client.
// Each reads random ids in 1..N for W seconds unmeasured, then S seconds measured, checks every row it
// gets (id, 'account-<id>', id*10: the rows bench/seed.sql makes) and prints one JSON line:
//   {"ops","seconds","p50_us","p99_us","p999_us","errors","error_kinds","cpu_s",...}.
// sync-loop: an embedded replica syncing back to back (the first sync before it prints {"ready":...});
//   a line "stop N" on stdin ends the loop: it syncs until the local `events` table has N rows (or 60 s
//   pass) and prints {"syncs","frames_synced","sync_p50_ms","sync_p99_ms","events","caught_up_ms",...}.
// Exits 0 when it ran (errors are counted, for the caller to judge), 2 on bad usage.
// @libsql/client comes from test/clients/node_modules (test/clients/install.sh), or BENCH_CLIENT_DIR.
import { createRequire } from "node:module";
import { dirname, join } from "node:path";
import { createInterface } from "node:readline";
import { fileURLToPath } from "node:url";
import { parseArgs } from "node:util";

const SQL = "SELECT id, name, balance FROM accounts WHERE id = ?"; // as bench/wrk/point_read.lua
const clientDir = process.env.BENCH_CLIENT_DIR ?? join(dirname(fileURLToPath(import.meta.url)), "../../test/clients");
const { createClient } = createRequire(join(clientDir, "package.json"))("@libsql/client");

const { positionals, values: opt } = parseArgs({
  allowPositionals: true,
  options: {
    url: { type: "string" }, "sync-url": { type: "string" }, local: { type: "string" },
    clients: { type: "string", default: "1" }, rows: { type: "string", default: "100000" },
    seconds: { type: "string", default: "10" }, warmup: { type: "string", default: "2" },
  },
});
const mode = positionals[0];
const rows = Number(opt.rows);
const needs = { embedded: ["sync-url", "local"], http: ["url"], hrana: ["url"], "sync-loop": ["sync-url", "local"] };
if (!needs[mode] || needs[mode].some((k) => !opt[k])) {
  console.error("usage: node embedded_reads.mjs embedded|http|hrana|sync-loop (see the comment at the top)");
  process.exit(2);
}

const nowUs = () => Number(process.hrtime.bigint() / 1000n);
const randomId = () => 1 + Math.floor(Math.random() * rows);

// Nearest-rank percentile of a sorted array (as bench/harness/loadgen.py's percentile()).
function percentile(sorted, p) {
  if (!sorted.length) return null;
  return sorted[Math.max(1, Math.ceil((p / 100) * sorted.length)) - 1];
}

function checkRow(id, row) {
  if (!row || Number(row[0]) !== id || row[1] !== `account-${id}` || Number(row[2]) !== id * 10)
    throw new Error(`wrong row for id ${id}: ${JSON.stringify(row)}`);
}

// `clients` loops, each awaiting readOne(id) back to back: W s unmeasured, then S s measured.
async function closedLoop(readOne, clients) {
  const errorKinds = {};
  let errors = 0;
  const latencies = [];
  const phase = async (seconds, record) => {
    const deadline = nowUs() + seconds * 1e6;
    const worker = async () => {
      while (nowUs() < deadline) {
        const id = randomId();
        const start = nowUs();
        try {
          await readOne(id);
          if (record) latencies.push(nowUs() - start);
        } catch (e) {
          if (!record) continue;
          errors += 1;
          const kind = String(e?.message ?? e).slice(0, 120);
          errorKinds[kind] = (errorKinds[kind] ?? 0) + 1;
        }
      }
    };
    await Promise.all(Array.from({ length: clients }, worker));
  };
  await phase(Number(opt.warmup), false);
  const cpu0 = process.cpuUsage();
  const t0 = nowUs();
  await phase(Number(opt.seconds), true);
  const seconds = (nowUs() - t0) / 1e6;
  const cpu = process.cpuUsage(cpu0);
  latencies.sort((a, b) => a - b);
  return {
    ops: latencies.length, seconds, p50_us: percentile(latencies, 50), p99_us: percentile(latencies, 99),
    p999_us: percentile(latencies, 99.9), errors, error_kinds: errorKinds, clients,
    cpu_s: (cpu.user + cpu.system) / 1e6,
  };
}

async function embedded() {
  const client = createClient({ url: `file:${opt.local}`, syncUrl: opt["sync-url"] });
  const t0 = nowUs();
  const rep = await client.sync();
  const syncMs = (nowUs() - t0) / 1000;
  const result = await closedLoop(async (id) => {
    checkRow(id, (await client.execute({ sql: SQL, args: [id] })).rows[0]);
  }, 1);
  client.close();
  return { ...result, initial_sync_ms: syncMs, frame_no: rep?.frame_no ?? null };
}

async function http() {
  const url = `${opt.url}/sql/query`;
  return closedLoop(async (id) => {
    const res = await fetch(url, {
      method: "POST", headers: { "Content-Type": "application/json" }, body: JSON.stringify({ sql: SQL, params: [id] }),
    });
    const text = await res.text();
    if (res.status !== 200) throw new Error(`HTTP ${res.status}: ${text.slice(0, 80)}`);
    checkRow(id, JSON.parse(text).rows[0]);
  }, Number(opt.clients));
}

async function hrana() {
  const client = createClient({ url: opt.url });
  const result = await closedLoop(async (id) => {
    checkRow(id, (await client.execute({ sql: SQL, args: [id] })).rows[0]);
  }, Number(opt.clients));
  client.close();
  return result;
}

// Resolves with N once stdin says "stop N".
function stopRequest() {
  return new Promise((resolve) => {
    const lines = createInterface({ input: process.stdin });
    lines.on("line", (line) => {
      const m = /^stop (\d+)$/.exec(line.trim());
      if (m) resolve(Number(m[1]));
    });
    lines.on("close", () => resolve(null));
  });
}

async function syncLoop() {
  const client = createClient({ url: `file:${opt.local}`, syncUrl: opt["sync-url"] });
  const first = await client.sync();
  const countEvents = async () => Number((await client.execute("SELECT count(*) FROM events")).rows[0][0]);
  console.log(JSON.stringify({ ready: true, frame_no: first?.frame_no ?? null, events: await countEvents() }));
  let expected;
  stopRequest().then((n) => { expected = n; });
  const durations = [];
  let frames = 0, errors = 0, lastError = null;
  const syncOnce = async () => {
    const start = nowUs();
    try {
      frames += (await client.sync())?.frames_synced ?? 0;
      durations.push(nowUs() - start);
    } catch (e) {
      errors += 1;
      lastError = String(e?.message ?? e).slice(0, 200);
    }
  };
  const cpu0 = process.cpuUsage();
  const t0 = nowUs();
  // sync() may finish without a turn of the event loop: setImmediate lets stdin's "stop" line in.
  const yieldToIo = () => new Promise((resolve) => setImmediate(resolve));
  while (expected === undefined) {
    await syncOnce();
    await yieldToIo();
  }
  const loopSeconds = (nowUs() - t0) / 1e6;
  const cpu = process.cpuUsage(cpu0);
  // Catching up once the load stopped: the replication log takes the writer's frames asynchronously.
  const stopAt = nowUs();
  let events = await countEvents();
  while (expected !== null && events < expected && nowUs() - stopAt < 60e6) {
    await syncOnce();
    events = await countEvents();
  }
  const caughtUpMs = (nowUs() - stopAt) / 1000;
  client.close();
  durations.sort((a, b) => a - b);
  const ms = (us) => (us === null ? null : us / 1000);
  return {
    syncs: durations.length, loop_seconds: loopSeconds, syncs_per_s: durations.length / loopSeconds,
    frames_synced: frames, sync_p50_ms: ms(percentile(durations, 50)), sync_p99_ms: ms(percentile(durations, 99)),
    errors, last_error: lastError, cpu_s: (cpu.user + cpu.system) / 1e6, events, expected_events: expected,
    caught_up_ms: caughtUpMs,
  };
}

const run = { embedded, http, hrana, "sync-loop": syncLoop }[mode];
console.log(JSON.stringify(await run()));
process.exit(0);
