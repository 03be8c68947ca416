/**
 * Conformance of CUBIC to RFC 9438, read from the cwnd trace only (one record per input: the time, the
 * event, cwnd, snd_una and the state after it).
 *
 * RFC 9438 section 4.2: in congestion avoidance the window follows W_cubic(t) = C (t - K)^3 + W_max
 * (figure 1), t the time since the epoch began, K = cbrt((W_max - cwnd_epoch) / C) (figure 2); the
 * sender approaches W_cubic(t + RTT) from below over one RTT, so cwnd tracks W_cubic(t). W_max is the
 * window just before the last reduction (section 4.6), or cwnd (1 + beta) / 2 when that is below the
 * previous W_max (fast convergence, section 4.7). The check rebuilds every loss-free epoch from the
 * trace: W_max from the record before the fast retransmit, t_epoch at the first ACK in congestion
 * avoidance after a loss and cwnd_epoch the window before that ACK (after a timeout K = 0 and W_max =
 * cwnd_epoch, section 4.8), and the Reno-friendly estimate W_est (section 4.3, figure 4) from the bytes
 * each ACK acknowledged. Wherever W_cubic(t) >= W_est (the cubic region) the traced cwnd must be
 * within one segment of W_cubic(t). The scenario asserts that it reaches many epochs and both the
 * concave and the convex region, so the rule cannot pass unexercised.
 */
import { describe, expect, it } from 'vitest';
import { Simulator } from '../../src/kernel/simulator.js';
import { CUBIC_BETA, CUBIC_C, type TcpTraceRecord } from '../../src/protocols/tcp/index.js';
import { Dumbbell } from '../../src/sim/index.js';

const MS = 1_000_000;
const S = 1_000_000_000;
const MSS = 1460;

interface Finding {
  epochs: number;
  /** Epochs with K = 0 (after a timeout, section 4.8). */
  afterTimeout: number;
  checked: number;
  renoFriendly: number;
  concave: number;
  convex: number;
  worstSegs: number;
  violations: string[];
}

function check(trace: readonly TcpTraceRecord[]): Finding {
  const f: Finding = { epochs: 0, afterTimeout: 0, checked: 0, renoFriendly: 0, concave: 0, convex: 0, worstSegs: 0, violations: [] };
  const alphaAimd = (3 * (1 - CUBIC_BETA)) / (1 + CUBIC_BETA);
  let wMax = 0;
  let cwndPrior = 0;
  let timedOut = false;
  let lossSeen = false;
  let epochS = -1;
  let k = 0;
  let wEst = 0;
  let alpha = alphaAimd;
  let prev: TcpTraceRecord | undefined;
  for (const r of trace) {
    const cwnd = r.cwndBytes / MSS;
    if (r.event === 'fast_retransmit' && prev !== undefined) {
      const before = prev.cwndBytes / MSS; // no input changes cwnd between the third duplicate ACK and this
      wMax = before < wMax ? (before * (1 + CUBIC_BETA)) / 2 : before; // sections 4.6 and 4.7
      cwndPrior = before;
      epochS = -1;
      lossSeen = true;
    } else if (r.event === 'timeout') {
      timedOut = true;
      epochS = -1;
      lossSeen = true;
    } else if (r.event === 'ack' && r.state === 'congestion_avoidance' && lossSeen && prev !== undefined) {
      const acked = (r.sndUna - prev.sndUna) / MSS;
      const cwndBefore = prev.cwndBytes / MSS;
      if (epochS < 0) {
        // The epoch starts at the first ACK in congestion avoidance; cwnd_epoch is the window before it.
        epochS = r.timeNs / S;
        if (timedOut || wMax <= cwndBefore) {
          wMax = cwndBefore; // section 4.8: K = 0, W_max = cwnd_epoch
          if (timedOut) cwndPrior = cwndBefore;
          k = 0;
          f.afterTimeout++;
        } else k = Math.cbrt((wMax - cwndBefore) / CUBIC_C);
        timedOut = false;
        wEst = cwndBefore;
        alpha = alphaAimd;
        f.epochs++;
      }
      wEst += (alpha * acked) / cwndBefore; // section 4.3, figure 4
      if (wEst >= cwndPrior) alpha = 1;
      const t = r.timeNs / S - epochS;
      const w = CUBIC_C * (t - k) ** 3 + wMax;
      if (w < wEst) f.renoFriendly++;
      else {
        f.checked++;
        if (t < k) f.concave++;
        else f.convex++;
        const d = Math.abs(cwnd - w);
        if (d > f.worstSegs) f.worstSegs = d;
        if (d > 1 && f.violations.length < 5)
          f.violations.push(
            `t=${r.timeNs / S}s: cwnd ${cwnd.toFixed(3)} segments, W_cubic(${t.toFixed(4)}) = ${w.toFixed(3)} (K ${k.toFixed(4)}, W_max ${wMax.toFixed(3)})`,
          );
      }
    }
    prev = r;
  }
  return f;
}

function run(sack: boolean): Finding {
  const sim = new Simulator({ seed: 1 });
  const bed = new Dumbbell(sim, {
    // 10 Mbps, 100 ms base RTT, a 50-packet drop-tail queue: losses come from the queue overflowing,
    // W_max is about 135 segments and K about 4.7 s, in CUBIC's cubic region.
    bottleneck: { bandwidthBps: 10e6, delayNs: 50 * MS, queuePackets: 50 },
    returnPath: { delayNs: 50 * MS },
    flows: [{ variant: 'cubic', ...(sack ? { sack: true } : {}) }],
    mssBytes: MSS,
    initialWindowSegments: 3,
  });
  const trace: TcpTraceRecord[] = [];
  bed.trace.connect((r) => {
    if (r.event !== 'drop') trace.push(r);
  });
  bed.start();
  sim.run({ until: 60 * S });
  return check(trace);
}

describe('RFC 9438 section 4.2: in a loss-free epoch CUBIC follows W(t) = C (t - K)^3 + W_max within one segment', () => {
  for (const sack of [false, true]) {
    it(`${sack ? 'SACK (RFC 6675) recovery' : 'NewReno recovery'}: every ACK of every epoch in the cubic region`, () => {
      const f = run(sack);
      expect(f.violations).toEqual([]);
      expect(f.worstSegs).toBeLessThanOrEqual(1);
      expect(f.epochs).toBeGreaterThanOrEqual(8);
      expect(f.checked).toBeGreaterThan(30_000);
      expect(f.concave).toBeGreaterThan(10_000);
      expect(f.convex).toBeGreaterThan(5_000);
    });
  }
});
