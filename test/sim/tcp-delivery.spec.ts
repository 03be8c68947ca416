/**
 * Delivery property: whatever data segments and ACKs are lost (fast-check
 * generates the drop sets) and however jitter reorders them, every variant
 * delivers the whole byte stream to the receiving application exactly once
 * and in order. On every trace record: cwnd >= 1 MSS, ssthresh >= 2 MSS after
 * a loss event, and only legal congestion-state transitions.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { Simulator } from '../../src/kernel/simulator.js';
import { VARIANTS, type TcpTraceRecord, type Variant } from '../../src/protocols/tcp/index.js';
import { Dumbbell } from '../../src/sim/index.js';
import { fcParams } from '../fc.js';

const MSS = 500;
const MS = 1_000_000;

/** Allowed (from, to, event) transitions of the traced state. */
function legal(variant: Variant, from: string, to: string, event: string): boolean {
  if (from === to) return true;
  if (to === 'fast_recovery') return variant !== 'tahoe' && event === 'fast_retransmit';
  if (from === 'slow_start' && to === 'congestion_avoidance') return event === 'ack' || event === 'recovery_exit';
  if (from === 'fast_recovery') return (to === 'congestion_avoidance' && event === 'recovery_exit') || event === 'timeout';
  if (to === 'slow_start') return event === 'timeout' || (variant === 'tahoe' && event === 'fast_retransmit');
  return false;
}

interface Case {
  variant: Variant;
  segments: number;
  tail: number;
  dataDrops: [number, number][];
  ackDrops: number[];
  jitterMs: number;
  delayedAck: boolean;
  iw: number;
  seed: number;
  /** Random loss on the bottleneck and the return path (network loss, on top of the drop sets). */
  netLoss: number;
  queuePackets: number;
}

function runCase(c: Case) {
  const total = c.segments * MSS + c.tail;
  const drops = new Set(c.dataDrops.map(([seg, tx]) => `${seg * MSS}/${tx}`));
  const ackDrops = new Set(c.ackDrops);
  const delivered: [number, number][] = [];
  const sim = new Simulator({ seed: c.seed });
  const bed = new Dumbbell(sim, {
    bottleneck: { bandwidthBps: 10e6, delayNs: 20 * MS, queuePackets: c.queuePackets, jitterNs: c.jitterMs * MS, loss: c.netLoss },
    returnPath: { delayNs: 20 * MS, jitterNs: c.jitterMs * MS, loss: c.netLoss },
    flows: [{ variant: c.variant, totalBytes: total }],
    mssBytes: MSS,
    initialWindowSegments: c.iw,
    delayedAck: c.delayedAck,
    dropData: (_f, seq, tx) => drops.has(`${seq}/${tx}`),
    dropAck: (_f, _ack, i) => ackDrops.has(i),
    deliver: (_f, s, e) => delivered.push([s, e]),
  });
  const problems: string[] = [];
  let prev: TcpTraceRecord | undefined;
  let lossSeen = false;
  let dropRecords = 0;
  bed.trace.connect((r) => {
    if (r.event === 'drop') dropRecords++;
    if (r.cwndBytes < MSS) problems.push(`cwnd ${r.cwndBytes} < MSS at ${r.timeNs}`);
    if (r.event === 'fast_retransmit' || r.event === 'timeout') lossSeen = true;
    if (lossSeen && !(r.ssthreshBytes >= 2 * MSS)) problems.push(`ssthresh ${r.ssthreshBytes} < 2 MSS after a loss`);
    // A drop is observed in the middle of an input (while the sender transmits): not a transition.
    if (r.event === 'drop') return;
    const from = prev?.state ?? 'slow_start';
    if (!legal(c.variant, from, r.state, r.event)) problems.push(`illegal ${from} -> ${r.state} on ${r.event}`);
    prev = r;
  });
  bed.start();
  sim.run({ until: 20_000 * 1_000_000_000 });
  return { total, delivered, problems, bed, sim, dropRecords };
}

const caseArb = fc.record({
  variant: fc.constantFrom(...VARIANTS),
  segments: fc.integer({ min: 0, max: 150 }),
  tail: fc.integer({ min: 0, max: MSS - 1 }),
  dataDrops: fc.array(fc.tuple(fc.integer({ min: 0, max: 60 }), fc.integer({ min: 1, max: 3 })), { maxLength: 25 }),
  ackDrops: fc.array(fc.integer({ min: 1, max: 120 }), { maxLength: 40 }),
  jitterMs: fc.constantFrom(0, 0, 5, 30),
  delayedAck: fc.boolean(),
  iw: fc.constantFrom(1, 3, 10),
  seed: fc.integer({ min: 0, max: 1000 }),
  netLoss: fc.constantFrom(0, 0, 0.02, 0.1),
  queuePackets: fc.constantFrom(1000, 3),
});

describe('TCP delivery under arbitrary loss and reordering', () => {
  it('delivers the byte stream exactly once, in order, with legal states, for every variant', () => {
    fc.assert(
      fc.property(caseArb, (c) => {
        const { total, delivered, problems, bed } = runCase(c);
        expect(problems.slice(0, 3)).toEqual([]);
        let next = 0;
        for (const [s, e] of delivered) {
          expect(s).toBe(next);
          expect(e).toBeGreaterThan(s);
          next = e;
        }
        expect(next).toBe(total);
        expect(bed.sender(0).done).toBe(true);
        expect(bed.receiver(0).rcvNxt).toBe(total);
      }),
      fcParams({ numRuns: 1000 }),
    );
  });

  it('drops chosen by the predicate are retransmitted and traced as drops', () => {
    const c: Case = {
      variant: 'newreno',
      segments: 30,
      tail: 0,
      dataDrops: [
        [5, 1],
        [6, 1],
        [7, 1],
        [6, 2],
      ],
      ackDrops: [],
      jitterMs: 0,
      delayedAck: false,
      iw: 10,
      seed: 1,
      netLoss: 0,
      queuePackets: 1000,
    };
    const r = runCase(c);
    expect(r.problems).toEqual([]);
    expect(r.bed.summary(r.sim.now)[0]?.dataDrops).toBe(4);
    expect(r.bed.sender(0).stats.retransmits).toBeGreaterThanOrEqual(4);
    expect(r.dropRecords).toBe(4);
    expect(r.delivered.at(-1)?.[1]).toBe(r.total);
  });

  it('several flows sharing a small drop-tail queue each deliver their own stream exactly once, in order', () => {
    const flowArb = fc.record({
      variant: fc.constantFrom(...VARIANTS),
      bytes: fc.integer({ min: 0, max: 120_000 }),
      startMs: fc.integer({ min: 0, max: 500 }),
      extraRttMs: fc.integer({ min: 0, max: 100 }),
    });
    fc.assert(
      fc.property(
        fc.array(flowArb, { minLength: 2, maxLength: 4 }),
        fc.constantFrom(2, 10, 50),
        fc.constantFrom(0, 0.01, 0.05),
        fc.integer({ min: 0, max: 1000 }),
        (flows, queuePackets, loss, seed) => {
          const next = flows.map(() => 0);
          const sim = new Simulator({ seed });
          const bed = new Dumbbell(sim, {
            bottleneck: { bandwidthBps: 5e6, delayNs: 10 * MS, queuePackets, loss, jitterNs: 2 * MS },
            returnPath: { delayNs: 10 * MS, loss },
            flows: flows.map((f) => ({
              variant: f.variant,
              totalBytes: f.bytes,
              startNs: f.startMs * MS,
              extraRttNs: f.extraRttMs * MS,
            })),
            mssBytes: MSS,
            deliver: (i, s, e) => {
              expect(s).toBe(next[i]);
              next[i] = e;
            },
          });
          bed.start();
          sim.run({ until: 20_000 * 1_000_000_000 });
          expect(next).toEqual(flows.map((f) => f.bytes));
          expect(bed.allDone).toBe(true);
        },
      ),
      fcParams({ numRuns: 150 }),
    );
  });
});
