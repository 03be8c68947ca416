/**
 * `desim cluster`: starts N local node processes on consecutive loopback
 * ports, each peered with all the others, relays their output line by line
 * with a name prefix, and stops them all together.
 *
 * Stopping sends SIGTERM to every child still running (each node flushes its
 * store and exits), waits for them, and sends SIGKILL to any child still
 * alive after the grace period. A child that fails to start (it exits before
 * it reports `listening`: port taken, bad data file, bad key file) rejects
 * {@link Cluster.ready}, and `desim cluster` then stops the others and exits
 * with an error: otherwise whoever held that port would be taken for a
 * member. A child that exits after it started is reported and the others
 * keep running (kill one to watch the others carry on, restart it by hand
 * with the command line printed at start).
 */
import { spawn, type ChildProcess } from 'node:child_process';
import path from 'node:path';
import { createInterface } from 'node:readline';
import { formatAddress, type UdpAddress } from './address.js';

/** Options of {@link startCluster}. */
export interface ClusterOptions {
  /** Number of nodes (1..26; named A, B, C, ...). */
  readonly nodes: number;
  /** Port of node A; node i listens on basePort + i. */
  readonly basePort: number;
  /** Host to bind (default 127.0.0.1). */
  readonly host?: string;
  /** The desim CLI script to run for each node (e.g. `process.argv[1]`). */
  readonly cliPath: string;
  /** Extra arguments passed to every `desim node` (e.g. `['--interval', '200']`). */
  readonly nodeArgs?: readonly string[];
  /** If set, node X stores its data in `<dataDir>/X.json`. */
  readonly dataDir?: string;
  /** Receives each output line of each child, and cluster events. */
  readonly onLine: (name: string, stream: 'stdout' | 'stderr' | 'cluster', line: string) => void;
  /** Grace period before SIGKILL on stop, ms (default 5000). */
  readonly killAfterMs?: number;
}

/** One child of a cluster. */
export interface ClusterMember {
  readonly name: string;
  readonly address: UdpAddress;
  /** The argv that starts it (after the node executable). */
  readonly args: readonly string[];
  readonly child: ChildProcess;
  /** Resolves with the exit code (or the signal name) when the child exits. */
  readonly exited: Promise<number | string>;
}

/** A running cluster. */
export interface Cluster {
  readonly members: readonly ClusterMember[];
  /** Stops every child (SIGTERM, then SIGKILL after the grace period); resolves when all have exited. */
  stop(): Promise<void>;
  /** Resolves when every child has exited (whatever the reason). */
  readonly allExited: Promise<void>;
  /** Resolves when every child reported `listening`; rejects naming the first child that exited before. */
  readonly ready: Promise<void>;
}

/** Node names: A..Z. */
export function nodeName(i: number): string {
  return String.fromCharCode(65 + i);
}

/** The `desim node` arguments of each member of an N-node cluster. */
export function clusterPlan(opts: Omit<ClusterOptions, 'cliPath' | 'onLine'>): { name: string; address: UdpAddress; args: string[] }[] {
  if (!Number.isInteger(opts.nodes) || opts.nodes < 1 || opts.nodes > 26)
    throw new RangeError(`--nodes must be an integer in 1..26, got ${opts.nodes}`);
  if (!Number.isInteger(opts.basePort) || opts.basePort < 1 || opts.basePort + opts.nodes - 1 > 65535) {
    throw new RangeError(`--base-port must leave room for ${opts.nodes} ports below 65536, got ${opts.basePort}`);
  }
  const host = opts.host ?? '127.0.0.1';
  const addrs = Array.from({ length: opts.nodes }, (_, i) => ({ host, port: opts.basePort + i }));
  return addrs.map((address, i) => {
    const name = nodeName(i);
    const peers = addrs
      .filter((_, j) => j !== i)
      .map(formatAddress)
      .join(',');
    const args = ['node', '--id', name, '--listen', formatAddress(address), '--peers', peers];
    if (opts.dataDir !== undefined) args.push('--data', path.join(opts.dataDir, `${name}.json`));
    args.push(...(opts.nodeArgs ?? []));
    return { name, address, args };
  });
}

/** Spawns the cluster's node processes (with the current Node executable). */
export function startCluster(opts: ClusterOptions): Cluster {
  const plan = clusterPlan(opts);
  const listening = new Set<string>();
  let readyResolve: () => void = () => {};
  let readyReject: (err: Error) => void = () => {};
  const ready = new Promise<void>((resolve, reject) => {
    readyResolve = resolve;
    readyReject = reject;
  });
  const members: ClusterMember[] = plan.map(({ name, address, args }) => {
    const child = spawn(process.execPath, [opts.cliPath, ...args], { stdio: ['ignore', 'pipe', 'pipe'] });
    for (const stream of ['stdout', 'stderr'] as const) {
      const s = child[stream];
      if (s !== null) {
        createInterface({ input: s }).on('line', (line) => {
          if (stream === 'stdout' && line.includes('"event":"listening"')) {
            listening.add(name);
            if (listening.size === plan.length) readyResolve();
          }
          opts.onLine(name, stream, line);
        });
      }
    }
    const exited = new Promise<number | string>((resolve) => {
      child.once('error', (err) => {
        opts.onLine(name, 'cluster', `failed to start: ${err.message}`);
        readyReject(new Error(`node ${name} failed to start: ${err.message}`));
        resolve('error');
      });
      child.once('exit', (code, signal) => {
        const how = code ?? signal ?? 'unknown';
        if (!listening.has(name))
          readyReject(
            new Error(`node ${name} (${formatAddress(address)}) exited before it was listening (${typeof how === 'number' ? `code ${how}` : how})`),
          );
        opts.onLine(name, 'cluster', `exited (${typeof how === 'number' ? `code ${how}` : how})`);
        resolve(how);
      });
    });
    return { name, address, args, child, exited };
  });
  const allExited = Promise.all(members.map((m) => m.exited)).then(() => undefined);
  let stopping: Promise<void> | undefined;
  const stop = (): Promise<void> => {
    stopping ??= (async () => {
      for (const m of members) if (m.child.exitCode === null && m.child.signalCode === null) m.child.kill('SIGTERM');
      const killTimer = setTimeout(() => {
        for (const m of members) {
          if (m.child.exitCode === null && m.child.signalCode === null) {
            opts.onLine(m.name, 'cluster', 'did not stop in time: SIGKILL');
            m.child.kill('SIGKILL');
          }
        }
      }, opts.killAfterMs ?? 5000);
      await allExited;
      clearTimeout(killTimer);
    })();
    return stopping;
  };
  ready.catch(() => {}); // a caller that does not wait for it must not see an unhandled rejection
  return { members, stop, allExited, ready };
}
