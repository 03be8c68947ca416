/**
 * Conformance of the TCP senders to their RFCs, read from traces only: the segment trace (one record
 * per data segment sent, with its kind, the RTO deadline it leaves and RFC 6675's pipe), the cwnd
 * trace (one record per input, after the segments that input sent) and, for PRR, the `prr` trace
 * (one record per ACK in recovery, before the segments that ACK lets out). Every rule cites the RFC
 * text it checks. Each scenario also asserts that it reaches the case its rule is about, so that a
 * rule cannot pass by never being exercised.
 */
import { describe, expect, it } from 'vitest';
import { Simulator } from '../../src/kernel/simulator.js';
import type { PrrRecord, TcpTraceRecord } from '../../src/protocols/tcp/index.js';
import { Dumbbell, type DumbbellConfig, type TcpSegmentRecord } from '../../src/sim/index.js';

const MS = 1_000_000;
const S = 1_000_000_000;

type Entry =
  | { readonly t: 'seg'; readonly r: TcpSegmentRecord }
  | { readonly t: 'cwnd'; readonly r: TcpTraceRecord }
  | { readonly t: 'prr'; readonly r: PrrRecord };

/** Runs the dumbbell and returns every flow's trace records in the order they were emitted. */
function run(config: DumbbellConfig, seconds: number, seed: number | string = 1): { log: Entry[]; bed: Dumbbell } {
  const sim = new Simulator({ seed });
  const bed = new Dumbbell(sim, config);
  const log: Entry[] = [];
  bed.flows.segments.connect((r) => log.push({ t: 'seg', r }));
  bed.flows.prr.connect((r) => log.push({ t: 'prr', r }));
  // Drop rows repeat a segment the segment trace already has: keep one record per input.
  bed.trace.connect((r) => {
    if (r.event !== 'drop') log.push({ t: 'cwnd', r });
  });
  bed.start();
  sim.run({ until: seconds * S });
  return { log, bed };
}

/** The entries of one flow. */
function ofFlow(log: readonly Entry[], flow: number): Entry[] {
  return log.filter((e) => e.r.flow === flow);
}

/** The path of the false-fast-retransmit report: 100 Mbps, 40 ms RTT, 333-packet queue, 2% loss, initial window 10. */
function reportPath(variant: 'reno' | 'newreno'): DumbbellConfig {
  return {
    bottleneck: { bandwidthBps: 100e6, delayNs: 20 * MS, queuePackets: 333, loss: 0.02 },
    returnPath: { delayNs: 20 * MS },
    flows: [{ variant }],
    initialWindowSegments: 10,
  };
}

describe('RFC 6582 section 3.2 step 2 and section 4 (and RFC 5681): no fast retransmit on duplicate ACKs at or below recover', () => {
  /**
   * After a timeout, recover = highest byte sent (RFC 6582 3.2 step 4); a fast retransmit needs
   * three duplicate ACKs whose ACK covers more than recover, i.e. ack - 1 > recover (step 2: "the
   * Cumulative Acknowledgment field covers more than recover"). NewReno also sets recover at each
   * fast retransmit (step 2). A fast retransmit's segment starts at the duplicated ACK (snd_una).
   */
  function check(log: readonly Entry[], variant: 'reno' | 'newreno'): { fast: number; timeouts: number; heldBack: number } {
    let highTx = 0;
    let recover = -Infinity;
    let afterTimeout = false;
    let fast = 0;
    let timeouts = 0;
    let heldBack = 0;
    for (const e of log) {
      if (e.t === 'seg') {
        const r = e.r;
        if (r.kind === 'fast') {
          fast++;
          const ack = r.seq;
          expect(ack - 1, `fast retransmit at ${r.timeNs} ns of ACK ${ack} with recover ${recover}`).toBeGreaterThan(recover);
          if (variant === 'newreno') recover = highTx - 1;
          afterTimeout = false;
        }
        highTx = Math.max(highTx, r.seq + r.len);
      } else if (e.t === 'cwnd') {
        const r = e.r;
        if (r.event === 'timeout') {
          timeouts++;
          recover = highTx - 1;
          afterTimeout = true;
        } else if (r.event === 'dupack' && afterTimeout && r.dupacks >= 3 && r.sndUna - 1 === recover) heldBack++;
      }
    }
    return { fast, timeouts, heldBack };
  }

  for (const variant of ['reno', 'newreno'] as const) {
    it(`${variant}: over the reported path, no fast retransmit covers no more than recover, and the case occurs`, () => {
      const { log } = run(reportPath(variant), 140, variant === 'reno' ? 1 : 5);
      const c = check(log, variant);
      expect(c.fast).toBeGreaterThan(50);
      expect(c.timeouts).toBeGreaterThan(0);
      // Third and later duplicates at exactly recover + 1 after a timeout happened, and were held back.
      expect(c.heldBack).toBeGreaterThan(0);
    });
  }
});

describe('RFC 6582 section 3.2 step 3: NewReno sends one retransmission per partial ACK and leaves recovery only when recover is acknowledged', () => {
  /**
   * Groups the segments of each input with the cwnd record that follows them. In recovery (after a
   * `fast_retransmit` record): an ACK of new data that does not cover recover (a partial ACK,
   * record event `ack`) carries exactly one retransmission, of kind `partial`, at the new snd_una
   * ("retransmit the first unacknowledged segment"); `recovery_exit` happens only once the ACK covers
   * recover (snd_una > recover) and carries no retransmission; duplicate ACKs retransmit nothing.
   */
  function check(log: readonly Entry[]): { partials: number; exits: number } {
    let highTx = 0;
    let recover = -Infinity;
    let inRecovery = false;
    let pending: TcpSegmentRecord[] = [];
    let partials = 0;
    let exits = 0;
    for (const e of log) {
      if (e.t === 'seg') {
        pending.push(e.r);
        if (e.r.kind === 'fast') recover = highTx - 1;
        highTx = Math.max(highTx, e.r.seq + e.r.len);
        if (!inRecovery) expect(e.r.kind, `segment at ${e.r.timeNs} ns outside recovery`).not.toBe('partial');
        continue;
      }
      if (e.t !== 'cwnd') continue;
      const r = e.r;
      const retx = pending.filter((s) => s.kind !== 'new');
      const at = `${r.event} at ${r.timeNs} ns (snd_una ${r.sndUna}, recover ${recover})`;
      if (inRecovery) {
        if (r.event === 'ack') {
          partials++;
          expect(r.sndUna, at).toBeLessThanOrEqual(recover);
          expect(r.state, at).toBe('fast_recovery');
          expect(
            retx.map((s) => `${s.kind}@${s.seq}`),
            at,
          ).toEqual([`partial@${r.sndUna}`]);
        } else if (r.event === 'recovery_exit') {
          exits++;
          expect(r.sndUna, at).toBeGreaterThan(recover);
          expect(retx, at).toEqual([]);
          inRecovery = false;
        } else if (r.event === 'dupack') {
          expect(retx, at).toEqual([]);
        } else if (r.event === 'timeout') inRecovery = false;
      } else if (r.event === 'fast_retransmit') inRecovery = true;
      else if (r.event === 'recovery_exit') throw new Error(`${at}: recovery exit outside recovery`);
      pending = [];
    }
    return { partials, exits };
  }

  it('three holes in one window: two partial ACKs, each with one retransmission, then the exit', () => {
    const mss = 1000;
    const holes = new Set([10, 12, 14].map((k) => k * mss));
    const { log } = run(
      {
        bottleneck: { bandwidthBps: 100e6, delayNs: 10 * MS, queuePackets: 1000 },
        returnPath: { delayNs: 10 * MS },
        flows: [{ variant: 'newreno', totalBytes: 40 * mss }],
        mssBytes: mss,
        initialWindowSegments: 20,
        dropData: (_f, seq, n) => n === 1 && holes.has(seq),
      },
      5,
    );
    const c = check(log);
    expect(c).toEqual({ partials: 2, exits: 1 });
    const kinds = log.flatMap((e) => (e.t === 'seg' && e.r.kind !== 'new' ? [`${e.r.kind}@${e.r.seq / mss}`] : []));
    expect(kinds).toEqual(['fast@10', 'partial@12', 'partial@14']);
  });

  it('over the reported path (2% loss, many recoveries): every partial ACK and exit follows the rule', () => {
    const { log } = run(reportPath('newreno'), 30, 5);
    const c = check(log);
    expect(c.exits).toBeGreaterThan(20);
    expect(c.partials).toBeGreaterThan(0);
  });

  it('RFC 6298 5.4-5.6 in the segment trace: the timer retransmits one segment at snd_una and restarts with the backed-off RTO', () => {
    const { log } = run(reportPath('newreno'), 30, 5);
    let pending: TcpSegmentRecord[] = [];
    let checked = 0;
    for (const e of log) {
      if (e.t === 'seg') pending.push(e.r);
      else if (e.t === 'cwnd') {
        if (e.r.event === 'timeout') {
          const r = e.r;
          // cwnd is one segment after a timeout, so the timer's input sends exactly the segment at snd_una.
          expect(pending.map((s) => `${s.kind}@${s.seq}`)).toEqual([`rto@${r.sndUna}`]);
          expect(pending[0]?.rtoDeadlineNs).toBe(r.timeNs + r.rtoNs);
          checked++;
        }
        pending = [];
      }
    }
    expect(checked).toBeGreaterThan(0);
  });
});

describe('RFC 6675 (SACK loss recovery)', () => {
  const lossy = (sack: Partial<DumbbellConfig>): DumbbellConfig => ({
    bottleneck: { bandwidthBps: 100e6, delayNs: 20 * MS, queuePackets: 60, loss: 0.01 },
    returnPath: { delayNs: 20 * MS },
    flows: [{ variant: 'reno' }, { variant: 'newreno', extraRttNs: 30 * MS }],
    initialWindowSegments: 10,
    sack: true,
    ...sack,
  });

  for (const prr of [true, false]) {
    it(`step C: every segment sent in recovery but the fast retransmit leaves pipe <= cwnd (PRR ${prr ? 'on' : 'off'})`, () => {
      const { log } = run(lossy({ prr }), 30);
      const byPipe = log.flatMap((e) => (e.t === 'seg' && e.r.pipeBytes >= 0 && e.r.kind !== 'fast' ? [e.r] : []));
      for (const r of byPipe) expect(r.pipeBytes, `${r.kind} at ${r.timeNs} ns, flow ${r.flow}`).toBeLessThanOrEqual(r.cwndBytes);
      expect(byPipe.filter((r) => r.kind === 'sack').length).toBeGreaterThan(10);
      expect(byPipe.filter((r) => r.state === 'fast_recovery' && r.kind === 'new').length).toBeGreaterThan(10);
      // RFC 6675 step 4.2 without PRR: cwnd = ssthresh for the whole recovery.
      if (!prr) for (const e of log) if (e.t === 'seg' && e.r.state === 'fast_recovery') expect(e.r.cwndBytes).toBe(e.r.ssthreshBytes);
      expect(log.some((e) => e.t === 'prr')).toBe(prr);
    });
  }

  it('NextSeg rule 4: a lost last segment is sent again by the rescue retransmission, not after a timeout', () => {
    const mss = 1000;
    const { log, bed } = run(
      {
        bottleneck: { bandwidthBps: 100e6, delayNs: 10 * MS, queuePackets: 1000 },
        returnPath: { delayNs: 10 * MS },
        flows: [{ variant: 'reno', totalBytes: 10 * mss }],
        mssBytes: mss,
        initialWindowSegments: 10,
        sack: true,
        dropData: (_f, seq, n) => n === 1 && (seq === 5 * mss || seq === 9 * mss),
      },
      5,
    );
    const kinds = log.flatMap((e) => (e.t === 'seg' && e.r.kind !== 'new' ? [`${e.r.kind}@${e.r.seq / mss}`] : []));
    expect(kinds).toEqual(['fast@5', 'rescue@9']);
    expect(bed.sender(0).stats.timeouts).toBe(0);
    expect(bed.sender(0).stats.completedNs).toBeLessThan(100 * MS);
  });

  it('without SACK the same two losses wait for the timer (so the rescue above is what saved it)', () => {
    const mss = 1000;
    const { bed } = run(
      {
        bottleneck: { bandwidthBps: 100e6, delayNs: 10 * MS, queuePackets: 1000 },
        returnPath: { delayNs: 10 * MS },
        flows: [{ variant: 'reno', totalBytes: 10 * mss }],
        mssBytes: mss,
        initialWindowSegments: 10,
        dropData: (_f, seq, n) => n === 1 && (seq === 5 * mss || seq === 9 * mss),
      },
      5,
    );
    expect(bed.sender(0).stats.timeouts).toBe(1);
  });

  for (const limitedTransmit of [true, false]) {
    it(`RFC 3042 limited transmit ${limitedTransmit ? 'sends one new segment on each of the first two duplicate ACKs' : 'off: nothing is sent on them'}`, () => {
      const mss = 1000;
      const { log } = run(
        {
          bottleneck: { bandwidthBps: 100e6, delayNs: 10 * MS, queuePackets: 1000 },
          returnPath: { delayNs: 10 * MS },
          flows: [{ variant: 'reno', totalBytes: 100 * mss }],
          mssBytes: mss,
          initialWindowSegments: 10,
          sack: true,
          limitedTransmit,
          dropData: (_f, seq, n) => n === 1 && seq === 3 * mss,
        },
        5,
      );
      let pending: TcpSegmentRecord[] = [];
      const perDupack: string[][] = [];
      for (const e of log) {
        if (e.t === 'seg') pending.push(e.r);
        else if (e.t === 'cwnd') {
          if (e.r.event === 'dupack' && e.r.state !== 'fast_recovery') perDupack.push(pending.map((s) => `${s.kind}@${s.seq / mss}`));
          if (e.r.event === 'fast_retransmit') break;
          pending = [];
        }
      }
      // Segment 3 was lost; the first two duplicate ACKs SACK 4 and 5, each taking one segment out of the pipe.
      expect(perDupack.length).toBe(2);
      if (limitedTransmit) for (const sends of perDupack) expect(sends).toEqual([expect.stringMatching(/^new@/)]);
      else expect(perDupack).toEqual([[], []]);
    });
  }
});

describe('RFC 6937 section 3.1 (PRR): sndcnt within its bounds', () => {
  it('every ACK in recovery: proportional below pipe > ssthresh, the slow-start reduction bound otherwise; sends keep to sndcnt', () => {
    const { log } = run(
      {
        bottleneck: { bandwidthBps: 50e6, delayNs: 20 * MS, queuePackets: 40, loss: 0.005 },
        returnPath: { delayNs: 20 * MS },
        flows: [{ variant: 'reno' }, { variant: 'newreno' }, { variant: 'reno', extraRttNs: 40 * MS }],
        initialWindowSegments: 10,
        sack: true,
      },
      30,
    );
    const modes = { prr: 0, ssrb: 0 };
    for (const flow of [0, 1, 2]) {
      let current: PrrRecord | undefined;
      let sent = 0;
      let firstLen = 0;
      let outSinceEntry = 0;
      const close = (): void => {
        if (current === undefined) return;
        // The sends this ACK let out stay within sndcnt (the entry's fast retransmit may go regardless).
        expect(sent, `sends after the prr record at ${current.timeNs} ns`).toBeLessThanOrEqual(
          Math.max(current.sndcntBytes, current.entry === 1 ? firstLen : 0),
        );
        current = undefined;
      };
      for (const e of ofFlow(log, flow)) {
        if (e.t === 'prr') {
          close();
          const r = e.r;
          if (r.entry === 1) outSinceEntry = 0;
          const at = `prr record at ${r.timeNs} ns, flow ${flow}`;
          // prr_out is what the trace shows was sent since recovery began.
          expect(r.prrOutBytes, at).toBe(outSinceEntry);
          expect(r.sndcntBytes, at).toBeGreaterThanOrEqual(0);
          expect(r.mode, at).toBe(r.pipeBytes > r.ssthreshBytes ? 'prr' : 'ssrb');
          if (r.mode === 'prr') {
            // sndcnt = CEIL(prr_delivered * ssthresh / RecoverFS) - prr_out, at least 0: sending tracks delivery
            // at ssthresh/RecoverFS (prr_out may be ahead only by the entry's fast retransmit).
            const share = Math.ceil((r.prrDeliveredBytes * r.ssthreshBytes) / r.recoverFsBytes);
            if (r.sndcntBytes > 0) expect(r.prrOutBytes + r.sndcntBytes, at).toBeLessThanOrEqual(share);
            else expect(r.prrOutBytes, at).toBeGreaterThanOrEqual(share);
          } else {
            // limit = MAX(prr_delivered - prr_out, DeliveredData) + MSS; sndcnt = MIN(ssthresh - pipe, limit).
            expect(r.pipeBytes + r.sndcntBytes, at).toBeLessThanOrEqual(r.ssthreshBytes);
            expect(r.sndcntBytes, at).toBeLessThanOrEqual(Math.max(r.prrDeliveredBytes - r.prrOutBytes, r.deliveredBytes) + r.segmentSize);
          }
          modes[r.mode]++;
          current = r;
          sent = 0;
          firstLen = 0;
        } else if (e.t === 'seg') {
          if (e.r.state === 'fast_recovery') outSinceEntry += e.r.len;
          if (current !== undefined) {
            if (current.entry === 1 && e.r.kind === 'fast') firstLen = e.r.len;
            sent += e.r.len;
          }
        } else {
          close();
          // RFC 6937: at the end of recovery cwnd = ssthresh.
          if (e.r.event === 'recovery_exit') expect(e.r.cwndBytes).toBe(e.r.ssthreshBytes);
        }
      }
    }
    expect(modes.prr).toBeGreaterThan(20);
    expect(modes.ssrb).toBeGreaterThan(20);
  });
});

describe("Lost retransmissions in SACK recovery (Linux's lost-retransmit rule, tcp_mark_lost_retrans)", () => {
  /**
   * The rule: a segment retransmitted in recovery remembers snd_nxt (the highest byte sent) at that
   * moment; once the highest SACKed segment starts after it, data sent after the retransmission has
   * arrived first, so the retransmission was lost (desim's links keep order) and the segment is sent
   * again (kind `sack`) instead of waiting for the retransmission timer. RFC 6675 alone leaves it to
   * the timer.
   */
  it('a fast retransmission dropped once more is sent again one round trip later, before the timer', () => {
    const mss = 1000;
    const { log, bed } = run(
      {
        bottleneck: { bandwidthBps: 100e6, delayNs: 10 * MS, queuePackets: 1000 },
        returnPath: { delayNs: 10 * MS },
        flows: [{ variant: 'reno', totalBytes: 60 * mss }],
        mssBytes: mss,
        initialWindowSegments: 20,
        sack: true,
        dropData: (_f, seq, n) => seq === 5 * mss && n <= 2,
      },
      5,
    );
    const retx = log.flatMap((e) => (e.t === 'seg' && e.r.kind !== 'new' ? [e.r] : []));
    expect(retx.map((r) => `${r.kind}@${r.seq / mss}`)).toEqual(['fast@5', 'sack@5']);
    const [fast, again] = retx as [TcpSegmentRecord, TcpSegmentRecord];
    expect(fast.dropped).toBe(true);
    expect(again.dropped).toBe(false);
    // It waits for the SACK of data sent after the fast retransmission (one round trip of 20 ms at
    // least) and comes long before the timer the fast retransmission left.
    expect(again.timeNs - fast.timeNs).toBeGreaterThanOrEqual(20 * MS);
    expect(again.timeNs).toBeLessThan(fast.rtoDeadlineNs);
    const st = bed.sender(0).stats;
    expect(st.timeouts).toBe(0);
    expect(st.lostRetransmits).toBe(1);
    expect(st.completedNs).toBeGreaterThan(0);
  });

  it('random loss: no retransmission is repeated unless it was dropped, and none that the rule finds waits for the timer', () => {
    const { log, bed } = run(
      {
        bottleneck: { bandwidthBps: 50e6, delayNs: 20 * MS, queuePackets: 100, loss: 0.03 },
        returnPath: { delayNs: 20 * MS },
        flows: [{ variant: 'reno' }, { variant: 'newreno', extraRttNs: 30 * MS }],
        initialWindowSegments: 10,
        sack: true,
      },
      60,
      3,
    );
    let repeated = 0;
    for (const flow of [0, 1]) {
      let highTx = 0;
      // Per recovery: the last recovery retransmission of each segment.
      let sent = new Map<number, TcpSegmentRecord>();
      // Dropped recovery retransmissions not sent again yet, with snd_nxt when sent and when data sent
      // after it (starting beyond that snd_nxt) first got through.
      let lost: { r: TcpSegmentRecord; sndNxt: number; witnessNs: number }[] = [];
      for (const e of ofFlow(log, flow)) {
        if (e.t === 'seg') {
          const r = e.r;
          if (r.kind === 'fast') {
            sent = new Map();
            lost = [];
          }
          if (r.kind === 'fast' || r.kind === 'sack') {
            const before = sent.get(r.seq);
            if (before !== undefined) {
              // The same recovery sends a segment twice only after the first copy was lost.
              expect(before.dropped, `${r.kind}@${r.seq} at ${r.timeNs} ns, flow ${flow}, repeats one that arrived`).toBe(true);
              repeated++;
            }
            sent.set(r.seq, r);
            lost = lost.filter((l) => l.r.seq !== r.seq);
            if (r.dropped) lost.push({ r, sndNxt: highTx, witnessNs: -1 });
          }
          if (!r.dropped) for (const l of lost) if (l.witnessNs < 0 && r.timeNs > l.r.timeNs && r.seq > l.sndNxt) l.witnessNs = r.timeNs;
          highTx = Math.max(highTx, r.seq + r.len);
        } else if (e.t === 'cwnd' && e.r.event === 'timeout') {
          // A retransmission whose loss the rule could see half a second before the timer fired (the
          // round trip is under 0.1 s) must have been sent again by then.
          for (const l of lost)
            expect(l.witnessNs < 0 || l.witnessNs > e.r.timeNs - S / 2, `lost ${l.r.kind}@${l.r.seq} waited for the timer, flow ${flow}`).toBe(true);
          sent = new Map();
          lost = [];
        }
      }
    }
    const stats = [bed.sender(0).stats, bed.sender(1).stats];
    // The case occurs: lost retransmissions were found and sent again.
    expect(repeated).toBeGreaterThan(5);
    expect(stats[0]!.lostRetransmits + stats[1]!.lostRetransmits).toBe(repeated);
  });
});
