/**
 * Child processes for the transport integration tests: runs the compiled
 * stand-alone entry (dist/src/cli.js), rebuilding it first if it
 * is missing or older than the sources, and keeps every child it starts so a
 * test can stop them all, pass or fail.
 */
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { existsSync, mkdirSync, readdirSync, rmSync, statSync } from 'node:fs';
import path from 'node:path';
import { createInterface } from 'node:readline';

const ROOT = path.resolve(import.meta.dirname, '../..');
/** The compiled entry the tests run. */
export const MAIN_JS = path.join(ROOT, 'dist/src/cli.js');

function newestMtimeMs(dir: string): number {
  let newest = 0;
  for (const f of readdirSync(dir, { withFileTypes: true })) {
    const p = path.join(dir, f.name);
    if (f.isDirectory()) newest = Math.max(newest, newestMtimeMs(p));
    else if (f.name.endsWith('.ts')) newest = Math.max(newest, statSync(p).mtimeMs);
  }
  return newest;
}

function sleepSync(ms: number): void {
  Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, ms);
}

function isFresh(): boolean {
  const srcNewest = Math.max(...['src/transport', 'src/protocols', 'src/kernel'].map((d) => newestMtimeMs(path.join(ROOT, d))));
  return existsSync(MAIN_JS) && statSync(MAIN_JS).mtimeMs >= srcNewest;
}

/**
 * Builds the project (tsc -p tsconfig.build.json) if the compiled entry is
 * missing or older than src/transport, src/protocols or src/kernel. Test files run in
 * parallel workers, so the build holds a lock directory (other callers wait).
 */
export function ensureBuilt(): void {
  if (isFresh()) return;
  const lock = path.join(ROOT, 'dist', '.transport-build.lock');
  mkdirSync(path.dirname(lock), { recursive: true });
  for (let i = 0; ; i++) {
    try {
      mkdirSync(lock);
      break;
    } catch {
      // Another worker is building; a lock older than two minutes is stale.
      if (i > 1200 || Date.now() - (statSync(lock, { throwIfNoEntry: false })?.mtimeMs ?? Date.now()) > 120_000)
        rmSync(lock, { recursive: true, force: true });
      sleepSync(100);
    }
  }
  try {
    // Emits even if files outside ours have type errors; the freshness check below is what matters.
    if (!isFresh()) {
      spawnSync(process.execPath, [path.join(ROOT, 'node_modules/typescript/bin/tsc'), '-p', path.join(ROOT, 'tsconfig.build.json')], {
        cwd: ROOT,
        stdio: 'ignore',
      });
    }
  } finally {
    rmSync(lock, { recursive: true, force: true });
  }
  if (!existsSync(MAIN_JS)) throw new Error(`could not build ${MAIN_JS}: run npm run build`);
}

/** A started child with its output collected line by line. */
export interface Proc {
  readonly child: ChildProcess;
  readonly stdout: string[];
  readonly stderr: string[];
  /** Resolves with the exit code (null if killed by a signal). */
  readonly exited: Promise<number | null>;
}

const live = new Set<ChildProcess>();

/**
 * Starts `node dist/src/cli.js ...args`, or with `wrapper`,
 * `wrapper[0] ...wrapper[1..] node dist/src/cli.js ...args` (a
 * wrapper that ends by exec-ing its arguments keeps the node's pid).
 */
export function run(args: readonly string[], wrapper: readonly string[] = []): Proc {
  return runScript(MAIN_JS, args, wrapper);
}

/** Starts `node script ...args` (see {@link run}), e.g. a test's own helper script. */
export function runScript(script: string, args: readonly string[], wrapper: readonly string[] = []): Proc {
  const argv = [process.execPath, script, ...args];
  const [exe, ...rest] = wrapper.length > 0 ? [...wrapper, ...argv] : argv;
  const child = spawn(exe as string, rest, { cwd: ROOT, stdio: ['ignore', 'pipe', 'pipe'] });
  live.add(child);
  const stdout: string[] = [];
  const stderr: string[] = [];
  if (child.stdout !== null) createInterface({ input: child.stdout }).on('line', (l) => stdout.push(l));
  if (child.stderr !== null) createInterface({ input: child.stderr }).on('line', (l) => stderr.push(l));
  const exited = new Promise<number | null>((resolve) => {
    child.once('exit', (code) => {
      live.delete(child);
      resolve(code);
    });
  });
  return { child, stdout, stderr, exited };
}

/** Runs a command to completion; resolves with its exit code and output. */
export async function runToEnd(args: readonly string[]): Promise<{ code: number | null; stdout: string; stderr: string }> {
  const p = run(args);
  const code = await p.exited;
  // Let readline deliver the last lines.
  await new Promise((r) => setImmediate(r));
  return { code, stdout: p.stdout.join('\n'), stderr: p.stderr.join('\n') };
}

/** Waits for the node's `listening` JSON line (or its exit, which rejects with its stderr). */
export async function waitListening(p: Proc, attempts = 600): Promise<Record<string, unknown>> {
  let exited = false;
  void p.exited.then(() => (exited = true));
  for (let i = 0; i < attempts; i++) {
    for (const line of p.stdout) {
      if (line.startsWith('{')) {
        const o = JSON.parse(line) as Record<string, unknown>;
        if (o['event'] === 'listening') return o;
      }
    }
    if (exited) throw new Error(`node exited before listening: ${p.stderr.join('\n')}`);
    await new Promise((r) => setTimeout(r, 50));
  }
  throw new Error(`node did not report listening: ${p.stderr.join('\n')}`);
}

/** Sends `signal` and waits for the exit. */
export async function stop(p: Proc, signal: NodeJS.Signals = 'SIGTERM'): Promise<number | null> {
  if (p.child.exitCode === null && p.child.signalCode === null) p.child.kill(signal);
  return p.exited;
}

/** SIGKILLs every child still running (call in afterAll / finally). */
export async function killAll(): Promise<void> {
  const waits: Promise<unknown>[] = [];
  for (const c of live) {
    waits.push(new Promise((r) => c.once('exit', r)));
    c.kill('SIGKILL');
  }
  await Promise.all(waits);
}

process.once('exit', () => {
  for (const c of live) c.kill('SIGKILL');
});
