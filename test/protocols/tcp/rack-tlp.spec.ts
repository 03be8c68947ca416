/**
 * Conformance of the SACK sender's RACK-TLP (RFC 8985) to its rules, read from traces only: the
 * segment trace (one record per data segment sent, with its kind) and the cwnd trace (one record
 * per input, with SRTT). Each case drops chosen segments on a quiet 100 Mbps path (20 ms base RTT),
 * checks when the sender acted against the RFC's formula, and runs the same drops without RACK-TLP
 * to show that the rule is what saved the timeout.
 */
import { describe, expect, it } from 'vitest';
import { Simulator } from '../../../src/kernel/simulator.js';
import type { TcpTraceRecord } from '../../../src/protocols/tcp/index.js';
import { TLP_WC_DEL_ACK_NS } from '../../../src/protocols/tcp/sender.js';
import { Dumbbell, type DumbbellConfig, type TcpSegmentRecord } from '../../../src/sim/index.js';

const MS = 1_000_000;
const S = 1_000_000_000;
const MSS = 1000;

type Entry = { readonly t: 'seg'; readonly r: TcpSegmentRecord } | { readonly t: 'cwnd'; readonly r: TcpTraceRecord };

function run(config: DumbbellConfig, seconds: number, seed: number | string = 1): { log: Entry[]; bed: Dumbbell } {
  const sim = new Simulator({ seed });
  const bed = new Dumbbell(sim, config);
  const log: Entry[] = [];
  bed.flows.segments.connect((r) => log.push({ t: 'seg', r }));
  bed.trace.connect((r) => {
    if (r.event !== 'drop') log.push({ t: 'cwnd', r });
  });
  bed.start();
  sim.run({ until: seconds * S });
  return { log, bed };
}

/** One flow of `segments` segments over the quiet path, dropping the first transmission of the listed ones. */
function tail(segments: number, drop: readonly number[], rack: boolean, initialWindow = 10): DumbbellConfig {
  return {
    bottleneck: { bandwidthBps: 100e6, delayNs: 10 * MS, queuePackets: 1000 },
    returnPath: { delayNs: 10 * MS },
    flows: [{ variant: 'reno', totalBytes: segments * MSS }],
    mssBytes: MSS,
    initialWindowSegments: initialWindow,
    sack: true,
    rack,
    dropData: (_f, seq, n) => n === 1 && drop.includes(seq / MSS),
  };
}

const segs = (log: readonly Entry[]): TcpSegmentRecord[] => log.flatMap((e) => (e.t === 'seg' ? [e.r] : []));
const cwnd = (log: readonly Entry[]): TcpTraceRecord[] => log.flatMap((e) => (e.t === 'cwnd' ? [e.r] : []));
const retransmissions = (log: readonly Entry[]): string[] => segs(log).flatMap((r) => (r.kind !== 'new' ? [`${r.kind}@${r.seq / MSS}`] : []));

/** The first transmission time of every segment (ns), by index. */
function sentAt(log: readonly Entry[]): Map<number, number> {
  const m = new Map<number, number>();
  for (const r of segs(log)) if (r.kind === 'new') m.set(r.seq / MSS, r.timeNs);
  return m;
}

describe('RFC 8985 section 7 (TLP): a tail loss is probed after PTO = 2 SRTT instead of waiting for the RTO', () => {
  it('two tail segments lost: the probe resends the last one 2 SRTT after the last ACK (7.2), and its SACK starts fast recovery', () => {
    const { log, bed } = run(tail(10, [8, 9], true), 5);
    expect(retransmissions(log)).toEqual(['tlp@9', 'fast@8']);
    const probe = segs(log).find((r) => r.kind === 'tlp') as TcpSegmentRecord;
    // 7.2: the PTO is (re)started on the ACK of new data; two segments are in flight, so no WCDelAckT.
    const lastAck = cwnd(log)
      .filter((r) => r.event === 'ack' && r.timeNs < probe.timeNs)
      .at(-1) as TcpTraceRecord;
    expect(lastAck.sndUna).toBe(8 * MSS);
    expect(probe.timeNs).toBe(lastAck.timeNs + 2 * Math.ceil(lastAck.srttNs));
    // 7.3: with no new data the probe is the highest segment sent; the retransmission timer restarts after it.
    expect(probe.retransmission).toBe(1);
    expect(probe.rtoDeadlineNs).toBe(probe.timeNs + lastAck.rtoNs);
    expect(cwnd(log).filter((r) => r.event === 'tlp').length).toBe(1);
    const st = bed.sender(0).stats;
    expect(st.tlpProbes).toBe(1);
    expect(st.timeouts).toBe(0);
    expect(st.completedNs).toBeGreaterThan(0);
    expect(st.completedNs).toBeLessThan(200 * MS);
  });

  it('one segment in flight: the PTO adds WCDelAckT (200 ms) for a delayed ACK (7.2)', () => {
    const { log, bed } = run(tail(10, [9], true), 5);
    expect(retransmissions(log)).toEqual(['tlp@9']);
    const probe = segs(log).find((r) => r.kind === 'tlp') as TcpSegmentRecord;
    const lastAck = cwnd(log)
      .filter((r) => r.event === 'ack' && r.timeNs < probe.timeNs)
      .at(-1) as TcpTraceRecord;
    expect(lastAck.sndUna).toBe(9 * MSS);
    expect(probe.timeNs).toBe(lastAck.timeNs + 2 * Math.ceil(lastAck.srttNs) + TLP_WC_DEL_ACK_NS);
    expect(bed.sender(0).stats.timeouts).toBe(0);
  });

  it('without RACK-TLP the same tail losses wait for the retransmission timer', () => {
    for (const drop of [[8, 9], [9]]) {
      const { log, bed } = run(tail(10, drop, false), 5);
      expect(retransmissions(log)[0]).toBe(`rto@${drop[0]}`);
      expect(bed.sender(0).stats.timeouts).toBe(1);
      expect(bed.sender(0).stats.tlpProbes).toBe(0);
    }
  });

  it('at most one probe per tail-loss episode (7.4): a second probe only after an ACK covered the first, a recovery or a timeout', () => {
    // Short transfers at 10% loss: many tails lost, some probes lost too.
    const flows = Array.from({ length: 100 }, (_, i) => ({ variant: 'reno' as const, totalBytes: 6 * MSS, startNs: i * 50 * MS }));
    const { log, bed } = run(
      {
        bottleneck: { bandwidthBps: 20e6, delayNs: 10 * MS, queuePackets: 100, loss: 0.1 },
        returnPath: { delayNs: 10 * MS },
        flows,
        mssBytes: MSS,
        initialWindowSegments: 10,
        sack: true,
        rack: true,
      },
      30,
    );
    let probes = 0;
    for (let f = 0; f < flows.length; f++) {
      let highTx = 0;
      let open = -1; // TLP.end_seq of the probe outstanding, or -1
      for (const e of log) {
        if (e.r.flow !== f) continue;
        if (e.t === 'seg') {
          const r = e.r;
          highTx = Math.max(highTx, r.seq + r.len);
          if (r.kind === 'tlp') {
            expect(open, `flow ${f}: a second probe at ${r.timeNs} ns with one outstanding`).toBe(-1);
            expect(r.state).not.toBe('fast_recovery'); // 7.2: never in recovery
            open = highTx;
            probes++;
          }
        } else if (open >= 0 && (e.r.sndUna > open || e.r.event === 'fast_retransmit' || e.r.event === 'rack_timer' || e.r.event === 'timeout')) {
          open = -1;
        } else if (open >= 0 && e.r.sndUna === open && e.r.event === 'dupack') open = -1;
      }
    }
    expect(probes).toBeGreaterThan(5); // the rule was exercised
    for (let f = 0; f < flows.length; f++) expect(bed.sender(f).stats.completedNs).toBeGreaterThan(0);
  });
});

describe('RFC 8985 section 6 (RACK): time-based loss detection', () => {
  it('before recovery with fewer than DupThresh SACKed, reo_wnd = min_RTT / 4: the reordering timer marks the loss (6.2 steps 4-6)', () => {
    const { log, bed } = run(tail(10, [7], true), 5);
    expect(retransmissions(log)).toEqual(['fast@7']);
    const sent = sentAt(log);
    const records = cwnd(log);
    // min_RTT: the smallest RTT of a cumulatively acknowledged segment (the first ACK's, before any queue).
    let minRtt = Infinity;
    for (const r of records) if (r.event === 'ack') minRtt = Math.min(minRtt, r.timeNs - (sent.get(r.sndUna / MSS - 1) as number));
    // RACK.rtt and RACK.xmit_ts come from segment 9, the most recently sent one delivered (SACKed by the second duplicate ACK).
    const dupacks = records.filter((r) => r.event === 'dupack');
    expect(dupacks.length).toBe(2); // DupThresh (3) is never reached
    const rackRtt = (dupacks[1] as TcpTraceRecord).timeNs - (sent.get(9) as number);
    const fast = segs(log).find((r) => r.kind === 'fast') as TcpSegmentRecord;
    // Segment 7 is lost when now >= xmit_ts(7) + RACK.rtt + reo_wnd.
    expect(fast.timeNs).toBe((sent.get(7) as number) + rackRtt + Math.floor(minRtt / 4));
    expect(records.some((r) => r.event === 'rack_timer' && r.timeNs === fast.timeNs)).toBe(true);
    expect(bed.sender(0).stats.rackTimerLosses).toBe(1);
    expect(bed.sender(0).stats.timeouts).toBe(0);
    // Without RACK two SACKed segments are not enough (RFC 6675 IsLost needs three): the timer fires.
    const plain = run(tail(10, [7], false), 5);
    expect(retransmissions(plain.log)[0]).toBe('rto@7');
  });

  it('in recovery reo_wnd = 0: a lost retransmission is resent at the ACK of a segment sent after it, no later (6.2 step 4)', () => {
    const mss = MSS;
    const { log, bed } = run(
      {
        ...tail(60, [], true, 20),
        dropData: (_f, seq, n) => seq === 5 * mss && n <= 2,
      },
      5,
    );
    expect(retransmissions(log)).toEqual(['fast@5', 'sack@5']);
    const all = segs(log);
    const [fast, again] = all.filter((r) => r.kind !== 'new') as [TcpSegmentRecord, TcpSegmentRecord];
    expect(fast.dropped).toBe(true);
    // The first segment sent after the fast retransmission, and the ACK that delivered it.
    const after = all.find((r) => r.kind === 'new' && r.timeNs >= fast.timeNs && all.indexOf(r) > all.indexOf(fast)) as TcpSegmentRecord;
    const delivered = cwnd(log).find((r) => r.timeNs > after.timeNs && r.event === 'dupack' && r.timeNs >= again.timeNs - 1);
    expect(delivered?.timeNs).toBe(again.timeNs);
    // One RTT after the retransmission and no reordering window on top (it would add min_RTT / 4 = 5 ms).
    expect(again.timeNs - fast.timeNs).toBeGreaterThanOrEqual(20 * MS);
    expect(again.timeNs - fast.timeNs).toBeLessThan(21 * MS);
    const st = bed.sender(0).stats;
    expect(st.lostRetransmits).toBe(1);
    expect(st.timeouts).toBe(0);
  });
});
