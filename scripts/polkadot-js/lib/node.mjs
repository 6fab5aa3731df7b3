// Starting and always stopping a throw-away development node.

import { spawn } from 'node:child_process';
import { createWriteStream, existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { createServer } from 'node:net';
import { homedir, tmpdir } from 'node:os';
import { join } from 'node:path';

/** Where scripts/common.sh builds the node. */
export function defaultNodeBinary() {
  if (process.env.EQUILIBRIUM_NODE) return process.env.EQUILIBRIUM_NODE;
  const state = process.env.CONTRACT_EQUILIBRIUM_HOME ?? join(homedir(), '.cache', 'contract-equilibrium');
  const target = process.env.CARGO_TARGET_DIR ?? join(state, 'target');
  return join(target, 'release', 'equilibrium-node');
}

/** A TCP port on 127.0.0.1 that nothing listens on right now (the OS picks it). */
export function freePort() {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.unref();
    server.on('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address();
      server.close(() => resolve(port));
    });
  });
}

const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));

/**
 * Starts `equilibrium-node --dev --tmp` on free ports with the given sealing mode and waits
 * until its RPC server listens. Returns { url, pid, logFile, stop() }. `stop()` sends SIGTERM,
 * then SIGKILL after 10 s; `killNow()` sends SIGKILL synchronously (for exit handlers).
 */
export async function startNode({ binary = defaultNodeBinary(), sealing = 'manual', extraArgs = [], startTimeoutMs = 60_000 } = {}) {
  if (!existsSync(binary)) {
    throw new Error(`no node binary at ${binary}: build it with cargo build --release -p equilibrium-node`);
  }
  const rpcPort = await freePort();
  const p2pPort = await freePort();
  const logDir = mkdtempSync(join(tmpdir(), 'equilibrium-scenario-'));
  const logFile = join(logDir, 'node.log');
  const log = createWriteStream(logFile);
  const args = ['--dev', '--tmp', '--rpc-port', String(rpcPort), '--port', String(p2pPort), '--no-prometheus',
    '--no-telemetry', '--no-mdns', '--sealing', String(sealing), ...extraArgs];
  const child = spawn(binary, args, { stdio: ['ignore', 'pipe', 'pipe'] });
  child.stdout.pipe(log);
  child.stderr.pipe(log);
  let exited = null;
  const exitPromise = new Promise((resolve) => {
    child.on('exit', (code, signal) => {
      exited = { code, signal };
      resolve(exited);
    });
  });

  const node = {
    url: `ws://127.0.0.1:${rpcPort}`,
    pid: child.pid,
    args,
    logFile,
    exited: () => exited,
    /** Synchronous SIGKILL, safe in an 'exit' handler. */
    killNow() {
      if (exited === null) {
        try { process.kill(child.pid, 'SIGKILL'); } catch { /* already gone */ }
      }
    },
    /**
     * SIGTERM, then SIGKILL if it has not exited within `graceMs`. Then removes the node's
     * `--tmp` directory if it is still there: the node deletes it on a clean exit, but after a
     * SIGKILL it cannot, and once (out of many runs) its database's last flush re-created it.
     */
    async stop(graceMs = 10_000) {
      if (exited === null) {
        try { process.kill(child.pid, 'SIGTERM'); } catch { /* already gone */ }
        const timer = setTimeout(() => node.killNow(), graceMs);
        await exitPromise;
        clearTimeout(timer);
      }
      node.removeTmpDir();
      return exited;
    },
    /** The `--tmp` base path the node reported at start ("Database: ParityDb at …"), or null. */
    tmpDir: null,
    removeTmpDir() {
      if (node.tmpDir && existsSync(node.tmpDir)) rmSync(node.tmpDir, { recursive: true, force: true });
    },
    /** Deletes the log (once the node has stopped). */
    removeLog() {
      log.end();
      rmSync(logDir, { recursive: true, force: true });
    },
    tail(lines = 30) {
      try {
        return readFileSync(logFile, 'utf8').trimEnd().split('\n').slice(-lines).join('\n');
      } catch {
        return '';
      }
    },
  };

  // Ready when the RPC server answers an HTTP JSON-RPC request.
  const deadline = Date.now() + startTimeoutMs;
  while (Date.now() < deadline) {
    if (exited !== null) throw new Error(`the node exited (${JSON.stringify(exited)}) before serving RPC:\n${node.tail()}`);
    try {
      const response = await fetch(`http://127.0.0.1:${rpcPort}`, {
        method: 'POST',
        headers: { 'Content-Type': 'application/json' },
        body: JSON.stringify({ id: 1, jsonrpc: '2.0', method: 'system_health', params: [] }),
        signal: AbortSignal.timeout(2_000),
      });
      if (response.ok) {
        const match = /Database: \S+ at (\S+?)\/chains\//.exec(readFileSync(logFile, 'utf8'));
        if (match && match[1].startsWith(join(tmpdir(), 'substrate'))) node.tmpDir = match[1];
        return node;
      }
    } catch { /* not up yet */ }
    await sleep(200);
  }
  await node.stop();
  throw new Error(`the node did not serve RPC within ${startTimeoutMs / 1000} s:\n${node.tail()}`);
}

/**
 * Keeps a script's throw-away node and its API connection, and stops the node whatever ends the
 * run: `shutdown()` at a normal end; SIGINT, SIGTERM or SIGHUP (exit 130); an unexpected
 * rejection or the time limit (exit 1); and, as a last resort, the process's exit (the node is
 * killed at once). Set `guard.node` and `guard.api` as soon as they exist.
 */
export class NodeGuard {
  /** `say` prints a line of the script's output; `timeLimitS` bounds the whole run. */
  constructor({ timeLimitS, say }) {
    this.node = null;
    this.api = null;
    this.stopping = null;
    this.interrupted = null; // the signal or time limit that stopped the run
    this.say = say;
    process.on('exit', () => {
      this.node?.killNow();
      try { this.node?.removeTmpDir(); } catch { /* best effort */ }
    });
    for (const signal of ['SIGINT', 'SIGTERM', 'SIGHUP']) process.on(signal, () => this.interrupt(signal, 130));
    // Requests cut off by the shutdown reject; anything else unexpected ends the run (and the node).
    process.on('unhandledRejection', (error) => {
      if (this.stopping) return;
      console.error(`error: ${error?.stack ?? error}`);
      this.interrupt('unexpected error', 1);
    });
    this.timer = setTimeout(() => this.interrupt(`the time limit of ${timeLimitS} s was reached`, 1), timeLimitS * 1000);
  }

  /**
   * Closes the connection first (at most 3 s; otherwise the provider keeps reconnecting to the
   * stopping node), then stops the node (SIGTERM, then SIGKILL after 10 s).
   */
  async shutdown() {
    clearTimeout(this.timer);
    this.stopping ??= (async () => {
      if (this.api) await Promise.race([this.api.disconnect().catch(() => {}), new Promise((r) => setTimeout(r, 3_000))]);
      if (this.node) {
        const result = await this.node.stop();
        this.say(`node stopped (pid ${this.node.pid}, ${result?.signal ?? `exit ${result?.code}`})`);
      }
    })();
    return this.stopping;
  }

  /** Stops the node and exits with `code` (signals, the time limit, unexpected errors). */
  interrupt(reason, code) {
    if (this.interrupted) return;
    this.interrupted = reason;
    console.error(`\n${reason}: stopping the node`);
    this.shutdown().finally(() => {
      if (this.node) this.say(`the node's log is kept at ${this.node.logFile}`);
      process.exit(code);
    });
  }
}
