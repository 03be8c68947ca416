import { describe, expect, it } from 'vitest';
import { TcpReceiver, TcpSender, congestionOps, type TcpPacket, type TcpTraceRecord } from '../../../src/protocols/tcp/index.js';

const MSS = 1000;

function sends(node: TcpSender | TcpReceiver): TcpPacket[] {
  return node.pollActions().flatMap((a) => (a.type === 'send' ? [a.msg] : []));
}

describe('ECN receiver (RFC 3168 section 6.1.3)', () => {
  it('echoes ECE on every ACK after a CE mark until a CWR segment arrives', () => {
    const r = new TcpReceiver({ ecn: true });
    const seg = (k: number, extra: Partial<TcpPacket> = {}): TcpPacket[] => {
      r.handleMessage(0, { flow: 0, seq: k * MSS, len: MSS, ect: true, ...extra }, k);
      return sends(r);
    };
    expect(seg(0)[0]?.ece).toBeUndefined();
    expect(seg(1, { ce: true })[0]?.ece).toBe(true);
    expect(seg(2)[0]?.ece).toBe(true); // still echoing: no CWR yet
    expect(seg(3, { cwr: true })[0]?.ece).toBeUndefined();
    expect(seg(4)[0]?.ece).toBeUndefined();
    expect(seg(5, { cwr: true, ce: true })[0]?.ece).toBe(true); // a CWR segment marked CE starts the echo again
  });

  it('ignores CE without ECN', () => {
    const r = new TcpReceiver();
    r.handleMessage(0, { flow: 0, seq: 0, len: MSS, ce: true }, 0);
    expect(sends(r)[0]?.ece).toBeUndefined();
  });
});

describe('ECN sender (RFC 3168 section 6.1.2)', () => {
  function setup() {
    const s = new TcpSender({
      mssBytes: MSS,
      initialWindowSegments: 10,
      totalBytes: Infinity,
      ops: congestionOps('newreno'),
      peer: 1,
      ecn: true,
      trace: { active: true },
    });
    const records: TcpTraceRecord[] = [];
    const segs: TcpPacket[] = [];
    const drain = (): void => {
      for (const a of s.pollActions()) {
        if (a.type === 'send') segs.push(a.msg);
        else if (a.type === 'trace' && a.name === 'cwnd') records.push(a.data as TcpTraceRecord);
      }
    };
    s.open(0);
    drain();
    const ack = (n: number, ece: boolean, at: number): void => {
      s.handleMessage(1, { flow: 0, seq: n, len: 0, ...(ece ? { ece } : {}) }, at);
      drain();
    };
    return { s, records, segs, ack };
  }

  it('sends first transmissions ECN-capable', () => {
    const { segs } = setup();
    expect(segs).toHaveLength(10);
    expect(segs.every((p) => p.ect === true && p.cwr === undefined)).toBe(true);
  });

  it('reduces once per window on ECE, as for a loss (ssthresh = FlightSize / 2, cwnd = ssthresh), retransmits nothing, sets CWR on the next new segment', () => {
    const { s, records, segs, ack } = setup();
    ack(1 * MSS, true, 100); // flight 10 segments: ssthresh 5 MSS
    expect(s.stats.ecnReductions).toBe(1);
    const cut = records.find((r) => r.event === 'ecn');
    expect(cut?.ssthreshBytes).toBe(5 * MSS);
    expect(cut?.cwndBytes).toBe(5 * MSS);
    const highAtCut = 10 * MSS;
    // More ECE ACKs for data sent before the reduction: no second reduction in this window.
    for (let k = 2; k <= 9; k++) ack(k * MSS, true, 100 + k);
    expect(s.stats.ecnReductions).toBe(1);
    expect(s.stats.retransmits).toBe(0);
    const after = segs.slice(10);
    expect(after.length).toBeGreaterThan(0);
    expect(after[0]?.cwr).toBe(true);
    expect(after.slice(1).every((p) => p.cwr === undefined)).toBe(true);
    expect(after.every((p) => p.seq >= highAtCut && p.ect === true)).toBe(true);
    // An ECE ACK that acknowledges data sent after the reduction is a new window: it reduces again.
    ack(highAtCut + MSS, true, 300);
    expect(s.stats.ecnReductions).toBe(2);
    expect(s.stats.retransmits).toBe(0);
  });

  it('ignores ECE in loss recovery, and ECE without ECN', () => {
    const { s, ack } = setup();
    for (let i = 0; i < 3; i++) ack(0, false, 10 + i); // three duplicate ACKs: fast retransmit
    expect(s.tcb.inRecovery).toBe(true);
    ack(0, true, 20);
    expect(s.stats.ecnReductions).toBe(0);
    const plain = new TcpSender({ mssBytes: MSS, initialWindowSegments: 10, totalBytes: Infinity, ops: congestionOps('reno'), peer: 1 });
    plain.open(0);
    expect(sends(plain).every((p) => p.ect === undefined)).toBe(true);
    plain.handleMessage(1, { flow: 0, seq: MSS, len: 0, ece: true }, 100);
    expect(plain.stats.ecnReductions).toBe(0);
    expect(plain.tcb.cwnd).toBe(11 * MSS);
  });
});
