// Starts and stops `monolite serve` for one test: a free loopback port, a fresh temporary
// database, the binary named by MONOLITE_BIN. Stopped by its PID (SIGTERM, then SIGKILL after a
// bounded wait); a server that does not exit 0 on SIGTERM fails the test.
import { spawn } from "node:child_process";
import fs from "node:fs";
import net from "node:net";
import os from "node:os";
import path from "node:path";

const READY_TIMEOUT_MS = 10_000;
const STOP_TIMEOUT_MS = 15_000;

function freePort() {
  return new Promise((resolve, reject) => {
    const probe = net.createServer();
    probe.on("error", reject);
    probe.listen(0, "127.0.0.1", () => {
      const { port } = probe.address();
      probe.close(() => resolve(port));
    });
  });
}

function childEnv(extra) {
  const env = {};
  for (const [k, v] of Object.entries(process.env)) if (!k.startsWith("MONOLITE_")) env[k] = v;
  return { ...env, ...extra };
}

const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

async function healthy(port, child, timeoutMs) {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline && child.exitCode === null) {
    try {
      const res = await fetch(`http://127.0.0.1:${port}/healthz`, { signal: AbortSignal.timeout(1000) });
      if (res.ok) return true;
    } catch {
      // not listening yet
    }
    await sleep(50);
  }
  return false;
}

function exited(child, timeoutMs) {
  if (child.exitCode !== null || child.signalCode !== null) return Promise.resolve(true);
  return new Promise((resolve) => {
    const timer = setTimeout(() => resolve(false), timeoutMs);
    child.once("exit", () => {
      clearTimeout(timer);
      resolve(true);
    });
  });
}

export async function startServer({ args = [], env = {} } = {}) {
  const bin = process.env.MONOLITE_BIN;
  if (!bin) throw new Error("set MONOLITE_BIN to the monolite binary");
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), "monolite-clients-"));
  for (let attempt = 0; attempt < 3; attempt++) {
    const port = await freePort();
    const logPath = path.join(dir, `server-${port}.log`);
    const log = fs.openSync(logPath, "w");
    const dbArgs = ["--db", path.join(dir, "app.db"), "--listen", `127.0.0.1:${port}`];
    const child = spawn(bin, ["serve", ...dbArgs, ...args], { stdio: ["ignore", log, log], env: childEnv(env) });
    fs.closeSync(log);
    if (await healthy(port, child, READY_TIMEOUT_MS)) {
      return {
        url: `http://127.0.0.1:${port}`,
        pid: child.pid,
        log: () => fs.readFileSync(logPath, "utf8"),
        stop: () => stopServer(child, dir, logPath),
      };
    }
    if (child.exitCode === null) process.kill(child.pid, "SIGKILL");
    await exited(child, STOP_TIMEOUT_MS);
  }
  throw new Error(`monolite did not become healthy; see ${dir}`);
}

async function stopServer(child, dir, logPath) {
  if (child.exitCode === null && child.signalCode === null) process.kill(child.pid, "SIGTERM");
  if (!(await exited(child, STOP_TIMEOUT_MS))) {
    process.kill(child.pid, "SIGKILL");
    await exited(child, STOP_TIMEOUT_MS);
    throw new Error(`monolite ${child.pid} did not stop on SIGTERM`);
  }
  if (child.exitCode !== 0) {
    const tail = fs.readFileSync(logPath, "utf8").split("\n").slice(-30).join("\n");
    throw new Error(`monolite exited with ${child.exitCode ?? child.signalCode}:\n${tail}`);
  }
  fs.rmSync(dir, { recursive: true, force: true });
}
