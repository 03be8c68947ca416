/**
 * CUBIC (RFC 9438) on a bare control block: the window as a function of time, K, the multiplicative
 * decrease, fast convergence, the Reno-friendly region and the epoch after a timeout.
 */
import { describe, expect, it } from 'vitest';
import {
  CUBIC_BETA,
  CUBIC_C,
  congestionOps,
  createControlBlock,
  createCubic,
  cubicAverageWindow,
  cubicK,
  cubicRenoFriendlyWindow,
  cubicWindow,
} from '../../../src/protocols/tcp/index.js';

const MSS = 1000;
const S = 1_000_000_000;

/** A block in congestion avoidance after a loss at `wMaxSegs` segments: ssThresh applied, cwnd = ssthresh. */
function afterLoss(wMaxSegs: number, cubic = createCubic()) {
  const tcb = createControlBlock(MSS, wMaxSegs);
  tcb.ssthresh = cubic.ssThresh(tcb, tcb.cwnd);
  tcb.cwnd = tcb.ssthresh;
  return { tcb, cubic };
}

/** Acks one window's worth of segments, one ACK per segment, spread evenly over [fromNs, fromNs + rttNs). */
function ackWindow(cubic: ReturnType<typeof createCubic>, tcb: ReturnType<typeof createControlBlock>, fromNs: number, rttNs: number): void {
  const n = Math.floor(tcb.cwnd / MSS);
  for (let i = 0; i < n; i++) {
    cubic.pktsAcked?.(tcb, 1, rttNs);
    cubic.increaseWindow(tcb, MSS, fromNs + Math.floor((i * rttNs) / n));
  }
}

describe('CUBIC (RFC 9438) on a bare control block', () => {
  it('K and W(t) are RFC 9438 figures 1 and 2: W(0) = cwnd_epoch, W(K) = W_max', () => {
    const k = cubicK(100, 70);
    expect(k).toBeCloseTo(Math.cbrt((100 * (1 - CUBIC_BETA)) / CUBIC_C), 12); // cbrt(W_max (1 - beta) / C)
    expect(k).toBeCloseTo(4.2172, 4);
    expect(cubicWindow(0, k, 100)).toBeCloseTo(70, 9);
    expect(cubicWindow(k, k, 100)).toBe(100);
    expect(cubicWindow(k + 2, k, 100)).toBeCloseTo(100 + 0.4 * 8, 9);
    expect(cubicK(50, 60)).toBe(0);
  });

  it('a loss sets ssthresh = cwnd * beta (at least 2 SMSS) and W_max = cwnd (RFC 9438 section 4.6)', () => {
    const cubic = createCubic();
    const tcb = createControlBlock(MSS, 100);
    expect(cubic.ssThresh(tcb, 100 * MSS)).toBe(70 * MSS);
    expect(cubic.state().wMaxSegs).toBe(100);
    expect(cubic.state().epochStartNs).toBe(-1);
    const small = createControlBlock(MSS, 2);
    expect(createCubic().ssThresh(small, 2 * MSS)).toBe(2 * MSS);
  });

  it('fast convergence: a loss below the last W_max sets W_max = cwnd (1 + beta) / 2 (section 4.7)', () => {
    const cubic = createCubic();
    const tcb = createControlBlock(MSS, 100);
    cubic.ssThresh(tcb, tcb.cwnd);
    tcb.cwnd = 80 * MSS;
    cubic.ssThresh(tcb, tcb.cwnd);
    expect(cubic.state().wMaxSegs).toBeCloseTo(80 * 0.85, 9);
    const off = createCubic({ fastConvergence: false });
    tcb.cwnd = 100 * MSS;
    off.ssThresh(tcb, tcb.cwnd);
    tcb.cwnd = 80 * MSS;
    off.ssThresh(tcb, tcb.cwnd);
    expect(off.state().wMaxSegs).toBe(80);
  });

  it('slow start below ssthresh is Reno slow start (RFC 5681 eq. 2)', () => {
    const cubic = createCubic();
    const tcb = createControlBlock(MSS, 2);
    cubic.increaseWindow(tcb, MSS, 0);
    cubic.increaseWindow(tcb, 5 * MSS, 1);
    expect(tcb.cwnd).toBe(4 * MSS);
  });

  it('in the cubic region the window follows W(t) = C (t - K)^3 + W_max within one segment, through the concave and convex parts', () => {
    // W_max = 1000 segments, RTT 100 ms: W_cubic grows far faster than the Reno-friendly estimate.
    const { tcb, cubic } = afterLoss(1000);
    const rtt = S / 10;
    const k = cubicK(1000, 700);
    let checked = 0;
    let beyondWMax = 0;
    for (let r = 0; r < 120; r++) {
      const start = r * rtt;
      ackWindow(cubic, tcb, start, rtt);
      const w = cubicWindow((start + rtt - cubic.state().epochStartNs) / S, k, 1000);
      expect(Math.abs(tcb.cwnd / MSS - w), `round ${r}: cwnd ${tcb.cwnd / MSS} vs W ${w}`).toBeLessThanOrEqual(1);
      checked++;
      if (tcb.cwnd / MSS > 1000) beyondWMax++;
    }
    expect(checked).toBe(120);
    expect(cubic.state().kS).toBeCloseTo(k, 12);
    expect(beyondWMax).toBeGreaterThan(10); // reached the convex region
  });

  it('the target is capped at 1.5 cwnd per RTT (section 4.2)', () => {
    // W_max far above cwnd: W(t + RTT) - cwnd is huge; cwnd may grow by at most half itself per window of ACKs.
    const cubic = createCubic();
    const tcb = createControlBlock(MSS, 10);
    tcb.ssthresh = 10 * MSS;
    cubic.ssThresh(createControlBlock(MSS, 100_000), 0); // W_max = 100,000 segments
    ackWindow(cubic, tcb, 0, S / 10);
    ackWindow(cubic, tcb, 50 * S, S / 10); // 50 s later: W(t) is near W_max
    expect(tcb.cwnd).toBeLessThanOrEqual(15 * MSS * 1.5 + MSS);
    expect(tcb.cwnd).toBeGreaterThan(15 * MSS);
  });

  it('in the Reno-friendly region cwnd = W_est, which grows by alpha = 3 (1 - beta) / (1 + beta) per RTT, then 1 (section 4.3)', () => {
    // A small window and a short RTT: W_cubic(t) barely moves over a few RTTs, W_est grows linearly.
    const { tcb, cubic } = afterLoss(20);
    const rtt = S / 1000; // 1 ms
    const alpha = (3 * (1 - CUBIC_BETA)) / (1 + CUBIC_BETA);
    const start = tcb.cwnd / MSS; // 14 segments
    for (let r = 0; r < 5; r++) ackWindow(cubic, tcb, r * rtt, rtt);
    const est = cubic.state().wEstSegs;
    // About alpha segments per window of ACKs (the window grows meanwhile, so a little less than 5 alpha).
    expect(est - start).toBeGreaterThan(0.85 * 5 * alpha);
    expect(est - start).toBeLessThan(5 * alpha);
    expect(tcb.cwnd).toBe(Math.floor(est * MSS));
    expect(cubicWindow((5 * rtt) / S, cubic.state().kS, 20)).toBeLessThan(est);
    // Once W_est reaches cwnd_prior (20 segments), alpha is 1: about one segment per window of ACKs.
    let r = 5;
    while (cubic.state().wEstSegs < 20) ackWindow(cubic, tcb, r++ * rtt, rtt);
    const before = cubic.state().wEstSegs;
    ackWindow(cubic, tcb, r * rtt, rtt);
    expect(cubic.state().wEstSegs - before).toBeGreaterThan(0.9);
    expect(cubic.state().wEstSegs - before).toBeLessThanOrEqual(1);
  });

  it('after a timeout the next epoch starts with K = 0 and W_max = cwnd_epoch (section 4.8)', () => {
    const { tcb, cubic } = afterLoss(100);
    cubic.timeout?.(tcb);
    tcb.cwnd = 30 * MSS;
    tcb.ssthresh = 30 * MSS;
    cubic.increaseWindow(tcb, MSS, 5 * S);
    expect(cubic.state().kS).toBe(0);
    expect(cubic.state().wMaxSegs).toBe(30);
    expect(cubic.state().epochStartNs).toBe(5 * S);
  });

  it('congestionOps("cubic") is a new instance per connection; the other variants are shared', () => {
    expect(congestionOps('cubic')).not.toBe(congestionOps('cubic'));
    expect(congestionOps('reno')).toBe(congestionOps('reno'));
    const a = congestionOps('cubic');
    a.ssThresh(createControlBlock(MSS, 50), 50 * MSS);
    const b = createCubic();
    expect(b.state().wMaxSegs).toBe(0);
  });

  it('the response functions: RFC 8312 section 5.1 average window, and where it beats the Reno-friendly one', () => {
    // (C (3 + beta) / (4 (1 - beta)))^(1/4) RTT^(3/4) / p^(3/4) = 1.0537 * (0.1 / 1e-4)^(3/4) = 187.4 at RTT 100 ms, p = 1e-4.
    expect(cubicAverageWindow(0.1, 1e-4)).toBeCloseTo(187.38, 1);
    expect(cubicRenoFriendlyWindow(1e-4)).toBeCloseTo(Math.sqrt(1.5e4), 9);
    expect(cubicAverageWindow(0.1, 1e-4)).toBeGreaterThan(cubicRenoFriendlyWindow(1e-4));
    expect(cubicAverageWindow(0.01, 1e-2)).toBeLessThan(cubicRenoFriendlyWindow(1e-2));
  });
});
