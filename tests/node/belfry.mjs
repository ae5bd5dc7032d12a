// Starts the built `belfry` binary as a user would: `belfry serve --demo` on a free port, over a
// fresh data directory, with a random root key. Not a test file itself (node --test skips it).

import { spawn } from "node:child_process";
import { randomBytes } from "node:crypto";
import { accessSync, constants, mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { createInterface } from "node:readline";
import { fileURLToPath } from "node:url";

/** How long the server may take to print its address and demo account. */
const START_TIMEOUT_MS = 60_000;
/** How long it may take to exit after SIGTERM. */
const STOP_TIMEOUT_MS = 15_000;

/** `$BELFRY_BIN`, or `<repo>/target/debug/belfry`. */
export function belfryBin() {
  return (
    process.env.BELFRY_BIN ||
    fileURLToPath(new URL("../../target/debug/belfry", import.meta.url))
  );
}

/** A random key in AWS's shapes: `AKIA` + 16 of [A-Z2-7], and a 40-character secret. */
export function randomKey() {
  const alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZ234567";
  const id = [...randomBytes(16)].map((b) => alphabet[b % 32]).join("");
  return {
    accessKeyId: `AKIA${id}`,
    secretAccessKey: randomBytes(30).toString("base64").replace(/[+/]/g, "x"),
  };
}

/**
 * Spawns `belfry serve --listen 127.0.0.1:0 --data <tmp> --demo` and waits for its banner.
 *
 * Resolves to `{ endpoint, demoAccountId, demoKey, rootKey, logs(), stop() }`; `stop()` sends
 * SIGTERM and resolves to the exit `{ code, signal }`.
 */
export async function startBelfry() {
  const bin = belfryBin();
  try {
    accessSync(bin, constants.X_OK);
  } catch {
    throw new Error(
      `Belfry binary not found or not executable at ${bin}: build it (cargo build) ` +
        `or set BELFRY_BIN to its path`,
    );
  }

  const dataDir = mkdtempSync(join(tmpdir(), "belfry-node-"));
  const rootKey = randomKey();
  // Only the options given here: no BELFRY_* setting of the caller (a database URL, a listen
  // address) may leak into the server; BELFRY_LOG is kept for debugging.
  const env = Object.fromEntries(
    Object.entries(process.env).filter(
      ([k]) => !k.startsWith("BELFRY_") || k === "BELFRY_LOG",
    ),
  );
  env.BELFRY_ROOT_ACCESS_KEY_ID = rootKey.accessKeyId;
  env.BELFRY_ROOT_SECRET_ACCESS_KEY = rootKey.secretAccessKey;

  const child = spawn(
    bin,
    ["serve", "--listen", "127.0.0.1:0", "--data", dataDir, "--demo"],
    { env, stdio: ["ignore", "pipe", "pipe"] },
  );

  const stdout = [];
  const stderr = [];
  child.stderr.setEncoding("utf8");
  child.stderr.on("data", (chunk) => stderr.push(chunk));
  const logs = () =>
    `--- belfry stdout ---\n${stdout.join("\n")}\n--- belfry stderr ---\n${stderr.join("")}`;

  const exited = new Promise((resolve) => {
    child.on("exit", (code, signal) => resolve({ code, signal }));
  });
  let exit = null;
  exited.then((e) => {
    exit = e;
  });

  const banner = new Promise((resolve, reject) => {
    const found = {};
    const lines = createInterface({ input: child.stdout });
    const timer = setTimeout(
      () => reject(new Error(`belfry printed no complete banner in ${START_TIMEOUT_MS} ms`)),
      START_TIMEOUT_MS,
    );
    const done = (err, value) => {
      clearTimeout(timer);
      err ? reject(err) : resolve(value);
    };
    child.on("error", (err) => done(new Error(`cannot start ${bin}: ${err.message}`)));
    exited.then(({ code, signal }) =>
      done(new Error(`belfry exited during start (code ${code}, signal ${signal})`)),
    );
    lines.on("line", (line) => {
      stdout.push(line);
      if (stdout.length === 1) {
        const m = /^Belfry listening on (http:\/\/127\.0\.0\.1:\d+)$/.exec(line);
        if (!m) {
          return done(new Error(`unexpected first stdout line: ${JSON.stringify(line)}`));
        }
        found.endpoint = m[1];
      }
      let m;
      if ((m = /^Demo account seeded: (\S+) \(250 users\)$/.exec(line))) {
        found.demoAccountId = m[1];
      } else if ((m = /^\s*export AWS_ACCESS_KEY_ID=(\S+)\s*$/.exec(line))) {
        found.demoAccessKeyId = m[1];
      } else if ((m = /^\s*export AWS_SECRET_ACCESS_KEY=(\S+)\s*$/.exec(line))) {
        found.demoSecretAccessKey = m[1];
      }
      if (
        found.endpoint &&
        found.demoAccountId &&
        found.demoAccessKeyId &&
        found.demoSecretAccessKey
      ) {
        done(null, found);
      }
    });
  });

  let found;
  try {
    found = await banner;
  } catch (err) {
    child.kill("SIGKILL");
    await exited;
    rmSync(dataDir, { recursive: true, force: true });
    err.message += `\n${logs()}`;
    throw err;
  }

  const stop = async () => {
    if (exit === null) {
      child.kill("SIGTERM");
    }
    const timeout = new Promise((resolve) =>
      setTimeout(() => resolve(null), STOP_TIMEOUT_MS).unref(),
    );
    let result = await Promise.race([exited, timeout]);
    if (result === null) {
      child.kill("SIGKILL");
      await exited;
      result = { code: null, signal: "SIGKILL", timedOut: true };
    }
    rmSync(dataDir, { recursive: true, force: true });
    return result;
  };

  return {
    endpoint: found.endpoint,
    demoAccountId: found.demoAccountId,
    demoKey: {
      accessKeyId: found.demoAccessKeyId,
      secretAccessKey: found.demoSecretAccessKey,
    },
    rootKey,
    logs,
    /** The exit of the server if it has stopped, else null. */
    exitStatus: () => exit,
    stop,
  };
}
