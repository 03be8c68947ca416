/**
 * `desim/testing` for TCP: a delivery property under loss, reordering,
 * duplication, bounded queues and faults that heal.
 *
 * {@link tcpCaseArb} draws one flow from A to B of a two-node network: the
 * variant, a small transfer, the link's loss (up to 30% by default, both
 * ways), jitter (which reorders), duplication and drop-tail queue, and a fault
 * schedule (partitions, one-way partitions, holds, crashes that keep state,
 * loss and latency episodes) that heals by a given time. {@link runTcpCase}
 * runs it through the code `desim run` uses for such a scenario and checks:
 *
 * - every byte reaches the receiving application exactly once and in order,
 *   and all of them by the end;
 * - the sender's invariants hold after every input and every segment sent:
 *   cwnd >= 1 MSS, snd_una <= snd_nxt, and no segment sent lies wholly below
 *   snd_una (no retransmission of cumulatively acknowledged data);
 * - with SACK (the `sack` option draws SACK flows), every segment sent by
 *   pipe other than the fast retransmit leaves pipe <= cwnd (RFC 6675 step C:
 *   send only while cwnd - pipe >= 1 SMSS).
 *
 * {@link checkTcpDelivery} runs the property over many cases; on failure it
 * writes the shrunk counterexample as a scenario file that `desim run`
 * replays, and throws a {@link PropertyFailure} naming the file and the seed.
 */
import fc from 'fast-check';
import { VARIANTS, type Variant } from '../protocols/tcp/congestion/index.js';
import type { TcpTraceRecord, TcpTxRecord } from '../protocols/tcp/sender.js';
import type { TcpFlows } from '../sim/tcp-flows.js';
import type { FaultEntry, LinkSection, RunContext, ScenarioFor } from '../scenarios/driver.js';
import { tcpDriver, tcpRecipe, type TcpSettings } from '../scenarios/drivers/tcp.js';
import { preparePipeline } from '../scenarios/pipeline.js';
import { ScenarioError } from '../scenarios/errors.js';
import { checkScenario } from '../scenarios/loader.js';
import { failWithCounterexample } from './counterexample.js';
import { faultScheduleArb, type FaultKind } from './index.js';

/** One generated TCP case: a flow from A to B, its link (both ways) and a fault schedule. */
export interface TcpCase {
  readonly variant: Variant;
  readonly bytes: number;
  readonly seed: number;
  readonly mss_bytes: number;
  readonly delayed_ack: boolean;
  readonly link: LinkSection;
  readonly faults: readonly FaultEntry[];
  /** SACK (RFC 2018 / RFC 6675, with limited transmit and PRR) for the flow. Absent: off. */
  readonly sack?: boolean;
}

/** Options of {@link tcpCaseArb}. */
export interface TcpCaseOptions {
  /** Variants to draw from. Default all of them (tahoe, reno, newreno, cubic). */
  readonly variants?: readonly Variant[];
  /** Largest transfer (bytes). Default 30,000. */
  readonly maxBytes?: number;
  /** Largest link loss (both ways) and loss during a loss episode. Default 0.3. */
  readonly maxLoss?: number;
  /** Largest jitter (ms). Default 30. */
  readonly maxJitter_ms?: number;
  /** Largest duplication probability. Default 0.1. */
  readonly maxDuplicate?: number;
  /** Faults heal by this time (s). Default 10. */
  readonly healBy_s?: number;
  /** At most this many fault episodes. Default 3. */
  readonly maxFaults?: number;
  /** Draw SACK flows (then give Reno, NewReno or CUBIC variants: Tahoe has no fast recovery for SACK). Default false. */
  readonly sack?: boolean;
}

const KINDS: readonly FaultKind[] = ['partition', 'one_way', 'hold', 'crash', 'loss', 'latency'];
const LATENCY_MS = 10;

/** TCP cases: one small transfer from A to B over a lossy, reordering, duplicating link with faults that heal. */
export function tcpCaseArb(opts: TcpCaseOptions = {}): fc.Arbitrary<TcpCase> {
  const pct = (max: number): fc.Arbitrary<number> => fc.integer({ min: 0, max: Math.round(max * 100) }).map((x) => x / 100);
  return fc
    .record({
      variant: fc.constantFrom(...(opts.variants ?? VARIANTS)),
      bytes: fc.integer({ min: 0, max: opts.maxBytes ?? 30_000 }),
      seed: fc.integer({ min: 0, max: 2 ** 31 - 1 }),
      mss_bytes: fc.constantFrom(500, 1460),
      delayed_ack: fc.boolean(),
      loss: pct(opts.maxLoss ?? 0.3),
      jitter: fc.integer({ min: 0, max: opts.maxJitter_ms ?? 30 }),
      duplicate: pct(opts.maxDuplicate ?? 0.1),
      queue: fc.constantFrom(2, 10, 1000),
      faults: faultScheduleArb(['A', 'B'], {
        healBy_s: opts.healBy_s ?? 10,
        maxFaults: opts.maxFaults ?? 3,
        kinds: KINDS,
        maxLoss: opts.maxLoss ?? 0.3,
        baseLatency_ms: LATENCY_MS,
      }),
    })
    .map((r) => ({
      variant: r.variant,
      bytes: r.bytes,
      seed: r.seed,
      mss_bytes: r.mss_bytes,
      delayed_ack: r.delayed_ack,
      link: { latency_ms: LATENCY_MS, bandwidth_bps: 10_000_000, queue_packets: r.queue, loss: r.loss, jitter_ms: r.jitter, duplicate: r.duplicate },
      // A loss episode ends by restoring the link's own loss.
      faults: r.faults.map((f) => ('set_loss' in f && f.set_loss === 0 ? { ...f, set_loss: r.loss } : f)),
      ...(opts.sack === true ? { sack: true } : {}),
    }));
}

/** A TCP case as a scenario file object (what `desim run` takes). */
export function tcpCaseToScenario(c: TcpCase, opts: { name: string; duration_s: number; description?: string }): Record<string, unknown> {
  return {
    name: opts.name,
    description: opts.description ?? 'generated by desim/testing',
    seed: c.seed,
    duration_s: opts.duration_s,
    network: { nodes: ['A', 'B'], link: c.link },
    protocol: {
      tcp: {
        mss_bytes: c.mss_bytes,
        delayed_ack: c.delayed_ack,
        flows: [{ variant: c.variant, from: 'A', to: 'B', bytes: c.bytes, ...(c.sack === true ? { sack: true } : {}) }],
      },
    },
    faults: c.faults,
    outputs: { traces: 'all', plots: false },
  };
}

/** What {@link runTcpCase} found: the first violation (or undefined) and counts. */
export interface TcpCaseResult {
  readonly violation: string | undefined;
  readonly bytesDelivered: number;
  readonly timeouts: number;
  readonly retransmits: number;
}

/** Runs one case for `duration_s` (s) through the code `desim run` uses, checking delivery and the sender's invariants. */
export function runTcpCase(c: TcpCase, opts: { duration_s: number }): TcpCaseResult {
  const raw = tcpCaseToScenario(c, { name: 'case', duration_s: opts.duration_s });
  const checked = checkScenario(raw, [tcpDriver]);
  if (!checked.ok) throw new ScenarioError('<tcp case>', checked.issues);
  const scenario = checked.scenario as unknown as ScenarioFor<TcpSettings, never>;
  const mss = c.mss_bytes;
  let violation: string | undefined;
  const fail = (what: string): void => {
    violation ??= what;
  };
  let next = 0;
  let now = (): number => 0;
  const checkState = (r: TcpTraceRecord, what: string): void => {
    if (r.cwndBytes < mss) fail(`${what} at ${r.timeNs} ns: cwnd ${r.cwndBytes} < 1 MSS (${mss})`);
    if (r.sndUna > r.sndNxt) fail(`${what} at ${r.timeNs} ns: snd_una ${r.sndUna} > snd_nxt ${r.sndNxt}`);
  };
  // The checks, connected once the flows are built and before anything runs.
  const watch = (flows: TcpFlows): void => {
    now = () => flows.sim.now;
    flows.deliveries.connect((d) => {
      if (d.start !== next) fail(`delivery [${d.start}, ${d.end}) at ${now()} ns, expected it to start at ${next}`);
      if (!(d.end > d.start)) fail(`empty delivery [${d.start}, ${d.end}) at ${now()} ns`);
      next = d.end;
    });
    // Every record, including the tx record after each segment (the host listens to it for drop rows).
    flows.host.traces.connect((e) => {
      if (e.name === 'cwnd') checkState(e.data as TcpTraceRecord, `after ${(e.data as TcpTraceRecord).event}`);
      else if (e.name === 'tx') {
        const tx = e.data as TcpTxRecord;
        checkState(tx, `sending [${tx.seq}, ${tx.seq + tx.len})`);
        if (tx.seq < tx.sndUna)
          fail(`at ${tx.timeNs} ns: sent [${tx.seq}, ${tx.seq + tx.len}), below snd_una ${tx.sndUna} (cumulatively acknowledged)`);
        if (tx.pipeBytes >= 0 && tx.kind !== 'fast' && tx.pipeBytes > tx.cwndBytes)
          fail(
            `at ${tx.timeNs} ns: sent [${tx.seq}, ${tx.seq + tx.len}) (${tx.kind}) with pipe ${tx.pipeBytes} > cwnd ${tx.cwndBytes} after it (RFC 6675 step C)`,
          );
      }
    });
    flows.trace.connect(() => undefined); // tracing on: the sender emits its records
  };
  // The pipeline `desim run` takes (the same world, faults and steps), without trace files.
  let built: TcpFlows | undefined;
  const ctx: RunContext = { seed: String(scenario.seed), openTrace: () => undefined, progress: () => undefined };
  const run = preparePipeline(scenario, ctx, [
    tcpRecipe({
      onFlows: (f) => {
        built = f;
        watch(f);
      },
    }),
  ]);
  const flows = built as unknown as TcpFlows;
  run.run();
  const sender = flows.sender(0);
  const receiver = flows.receiver(0);
  if (next !== c.bytes) fail(`delivered ${next} of ${c.bytes} bytes by ${opts.duration_s} s`);
  if (receiver.rcvNxt !== next) fail(`receiver's rcv_nxt ${receiver.rcvNxt} differs from the bytes delivered, ${next}`);
  if (!sender.done) fail(`sender not done: snd_una ${sender.sndUna} of ${c.bytes}`);
  return { violation, bytesDelivered: next, timeouts: sender.stats.timeouts, retransmits: sender.stats.retransmits };
}

/** Options of {@link checkTcpDelivery}. */
export interface CheckTcpDeliveryOptions {
  readonly cases?: fc.Arbitrary<TcpCase>;
  /** Simulated run length (s). Default 3000: enough for a small transfer through backed-off timers. */
  readonly duration_s?: number;
  /** Where to write `<name>.counterexample.yaml` on failure. */
  readonly counterexampleDir: string;
  readonly name: string;
  /** fast-check parameters (seed, numRuns, ...). */
  readonly params?: fc.Parameters<[TcpCase]>;
}

/** Checks the TCP delivery property over generated cases; on failure writes the counterexample scenario and throws {@link PropertyFailure}. */
export function checkTcpDelivery(opts: CheckTcpDeliveryOptions): { numRuns: number } {
  const duration = opts.duration_s ?? 3000;
  const details = fc.check(
    fc.property(opts.cases ?? tcpCaseArb(), (c) => {
      const v = runTcpCase(c, { duration_s: duration }).violation;
      if (v !== undefined) throw new Error(v);
    }),
    opts.params ?? {},
  );
  if (!details.failed || details.counterexample === null) return { numRuns: details.numRuns };
  const [c] = details.counterexample;
  const scenario = tcpCaseToScenario(c, {
    name: `${opts.name}-counterexample`,
    duration_s: duration,
    description: `Shrunk counterexample of ${opts.name} (fast-check seed ${details.seed}, path ${details.counterexamplePath ?? ''})`,
  });
  return failWithCounterexample(opts.name, opts.counterexampleDir, scenario, details, c);
}
