/**
 * `desim bench tcp`: one Reno flow over a 1 Gbps bottleneck, 10 ms base RTT,
 * Bernoulli data loss 1e-5, 60 s of simulated time; reports simulated data
 * packets per wall-clock second (the figure ns-3.37 reaches here is about
 * 50 thousand per second on the same scenario).
 */
import { milliseconds, seconds } from '../kernel/time.js';
import type { Network } from '../net/network.js';
import { buildWorld, uniformNetwork } from '../scenarios/pipeline.js';
import { Dumbbell, type TcpPacket } from '../sim/dumbbell.js';

/** What {@link benchTcp} measured. */
export interface TcpBenchResult {
  /** Wall-clock seconds of the simulation run (setup excluded). */
  readonly wallS: number;
  /** Data packets (segments, retransmissions included) simulated per wall second. */
  readonly packetsPerS: number;
  /** The same per CPU second of the process (steadier than wall time on a shared machine). */
  readonly packetsPerCpuS: number;
  /** Data packets the sender transmitted. */
  readonly dataPackets: number;
  /** ACKs the receiver sent. */
  readonly acks: number;
  /** Kernel events fired. */
  readonly events: number;
  /** Simulated seconds. */
  readonly simulatedS: number;
  /** Goodput of the flow (bits per simulated second). */
  readonly goodputBps: number;
  readonly fastRetransmits: number;
  readonly timeouts: number;
}

/** Options of {@link benchTcp} (defaults: the benchmark scenario). */
export interface TcpBenchOptions {
  readonly durationS?: number;
  readonly bandwidthBps?: number;
  readonly rttMs?: number;
  readonly loss?: number;
  readonly queuePackets?: number;
  readonly seed?: number;
  /** SACK recovery (RFC 6675, limited transmit and PRR on). Default false: the benchmark's figure is without. */
  readonly sack?: boolean;
}

/** Runs the TCP benchmark and measures wall time (bench is the only place desim reads a wall clock). */
export function benchTcp(options: TcpBenchOptions = {}): TcpBenchResult {
  const durationS = options.durationS ?? 60;
  const rttMs = options.rttMs ?? 10;
  const world = buildWorld(options.seed ?? 1, uniformNetwork(0, {}), { initialCapacity: 4096, perLinkCounters: false });
  const sim = world.sim;
  const bed = new Dumbbell(sim, {
    net: world.net as Network<TcpPacket>,
    bottleneck: {
      bandwidthBps: options.bandwidthBps ?? 1e9,
      delayNs: milliseconds(rttMs / 2),
      queuePackets: options.queuePackets ?? 1000,
      loss: options.loss ?? 1e-5,
    },
    returnPath: { delayNs: milliseconds(rttMs / 2) },
    flows: [{ variant: 'reno' }],
    sack: options.sack ?? false,
  });
  bed.start();
  const c0 = process.cpuUsage();
  const t0 = process.hrtime.bigint();
  sim.run({ until: seconds(durationS) });
  const wallS = Number(process.hrtime.bigint() - t0) / 1e9;
  const cpu = process.cpuUsage(c0);
  const cpuS = (cpu.user + cpu.system) / 1e6;
  const s = bed.summary(sim.now)[0];
  const sender = bed.sender(0);
  return {
    wallS,
    packetsPerS: sender.stats.segmentsSent / wallS,
    packetsPerCpuS: sender.stats.segmentsSent / cpuS,
    dataPackets: sender.stats.segmentsSent,
    acks: bed.receiver(0).acksSent,
    events: sim.fired,
    simulatedS: durationS,
    goodputBps: s?.goodputBps ?? NaN,
    fastRetransmits: sender.stats.fastRetransmits,
    timeouts: sender.stats.timeouts,
  };
}

/** The line `desim bench tcp` prints. */
export function formatTcpBench(r: TcpBenchResult): string {
  return `tcp_1g wall_s=${r.wallS.toFixed(3)} packets_per_s=${Math.round(r.packetsPerS)} packets_per_cpu_s=${Math.round(r.packetsPerCpuS)}`;
}
