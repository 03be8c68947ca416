/**
 * The network's invariants under random link configurations and random fault
 * schedules, checked at every packet event and after every kernel event:
 *
 * - nothing is delivered across a partition, to a down node, or through an active hold;
 * - nothing arrives before `minTransitNs` (as configured when it was sent);
 * - every drop has a cause that holds at that moment;
 * - sent + duplicated = delivered + drops + inFlight, in total and per link;
 * - receivers get exactly the delivered packets; per-link counters equal the
 *   sums over the `packets` trace, and the totals equal the sums of the links.
 *
 * A second property checks a single FIFO bandwidth link against the exact
 * queueing formula.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { Simulator } from '../../src/kernel/simulator.js';
import { Network, droppedTotal, type LinkCounters, type PacketEvent } from '../../src/net/network.js';
import { fcParams } from '../fc.js';
import { netScenarioArb, type NetScenario } from './arbitraries.js';

interface Rule {
  readonly id: number;
  readonly a: ReadonlySet<number>;
  readonly b: ReadonlySet<number>;
  readonly oneWay: boolean;
}

function ruleMatches(r: Rule, from: number, to: number): boolean {
  return (r.a.has(from) && r.b.has(to)) || (!r.oneWay && r.b.has(from) && r.a.has(to));
}

function groups(g: readonly number[], n: number, which: number): number[] {
  return g.slice(0, n).flatMap((x, i) => (x === which ? [i] : []));
}

interface Tally {
  sent: number;
  delivered: number;
  loss: number;
  queue: number;
  partition: number;
  node_down: number;
  bytesSent: number;
  bytesDelivered: number;
}

const emptyTally = (): Tally => ({
  sent: 0,
  delivered: 0,
  loss: 0,
  queue: 0,
  partition: 0,
  node_down: 0,
  bytesSent: 0,
  bytesDelivered: 0,
});

function checkIdentity(c: Readonly<LinkCounters>, inFlight: number, where: string): void {
  expect(c.sent + c.duplicated, where).toBe(c.delivered + droppedTotal(c) + inFlight);
}

/** Runs a scenario, asserting every invariant as it goes. Returns the packet trace. */
function runChecked(sc: NetScenario): PacketEvent[] {
  const n = sc.nodes;
  const sim = new Simulator({ seed: sc.seed });
  const net = new Network<{ readonly seq: number }>(sim, { nodes: n, defaultLink: sc.defaultLink });
  for (const o of sc.overrides) net.setLink(o.from % n, o.to % n, o.link);

  const trace: PacketEvent[] = [];
  const received: string[] = [];
  const deliveredLog: string[] = [];
  const minTransit = new Map<number, number>();
  const fates = new Map<number, number>();
  const perLink = new Map<string, Tally>();
  let holds: Rule[] = [];
  const partitionIds: number[] = [];
  const holdIds: number[] = [];
  let inSend = false;
  let seq = 0;

  for (let i = 0; i < n; i++) {
    net.attach(i, (from, payload, sizeBytes) => received.push(`${from}>${i}#${payload.seq}:${sizeBytes}@${sim.now}`));
  }
  const payloadOf = new Map<number, number>();

  net.packets.connect((ev) => {
    trace.push(ev);
    const where = `packet ${ev.packetId} ${ev.kind} ${ev.cause ?? ''} ${ev.from}->${ev.to} at ${ev.timeNs}`;
    expect(ev.timeNs, where).toBe(sim.now);
    const key = `${ev.from}>${ev.to}`;
    let t = perLink.get(key);
    if (t === undefined) perLink.set(key, (t = emptyTally()));
    if (ev.kind === 'send') {
      expect(inSend, where).toBe(true);
      expect(ev.sentNs, where).toBe(ev.timeNs);
      minTransit.set(ev.packetId, net.minTransitNs(ev.from, ev.to, ev.sizeBytes));
      t.sent++;
      t.bytesSent += ev.sizeBytes;
      return;
    }
    fates.set(ev.packetId, (fates.get(ev.packetId) ?? 0) + 1);
    if (ev.kind === 'deliver') {
      expect(net.isPartitioned(ev.from, ev.to), where).toBe(false);
      expect(net.isUp(ev.to), where).toBe(true);
      expect(
        holds.some((r) => ruleMatches(r, ev.from, ev.to)),
        where,
      ).toBe(false);
      expect(ev.timeNs - ev.sentNs, where).toBeGreaterThanOrEqual(minTransit.get(ev.packetId) as number);
      t.delivered++;
      t.bytesDelivered += ev.sizeBytes;
      deliveredLog.push(`${ev.from}>${ev.to}#${payloadOf.get(ev.packetId)}:${ev.sizeBytes}@${ev.timeNs}`);
      return;
    }
    const cause = ev.cause;
    if (cause === undefined) throw new Error(`drop without a cause: ${where}`);
    t[cause]++;
    if (inSend) {
      // Decided at send time.
      expect(ev.sentNs, where).toBe(ev.timeNs);
      if (cause === 'node_down') expect(net.isUp(ev.from), where).toBe(false);
      if (cause === 'partition') expect(net.isPartitioned(ev.from, ev.to), where).toBe(true);
      if (cause === 'queue') expect(net.link(ev.from, ev.to).bandwidthBps, where).toBeLessThan(Infinity);
      if (cause === 'loss') expect(net.link(ev.from, ev.to).loss, where).not.toBe(0);
    } else {
      // Decided on arrival.
      expect(['partition', 'node_down'], where).toContain(cause);
      if (cause === 'partition') expect(net.isPartitioned(ev.from, ev.to), where).toBe(true);
      if (cause === 'node_down') expect(net.isUp(ev.to), where).toBe(false);
    }
  });

  const apply = (op: NetScenario['ops'][number]['op']): void => {
    switch (op.op) {
      case 'send':
        for (let k = 0; k < op.count; k++) {
          const s = seq++;
          inSend = true;
          const before = trace.length;
          net.send(op.from % n, op.to % n, { seq: s }, op.sizeBytes);
          inSend = false;
          payloadOf.set((trace[before] as PacketEvent).packetId, s);
        }
        break;
      case 'partition': {
        const a = groups(op.groups, n, 0);
        const b = groups(op.groups, n, 1);
        partitionIds.push(op.oneWay ? net.partitionOneWay(a, b) : net.partition(a, b));
        break;
      }
      case 'repair':
        if (op.which === 'all') net.repair();
        else if (partitionIds.length > 0) net.repair(partitionIds[op.which % partitionIds.length]);
        break;
      case 'hold': {
        const a = groups(op.groups, n, 0);
        const b = groups(op.groups, n, 1);
        const id = net.hold(a, b, op.oneWay);
        holdIds.push(id);
        holds.push({ id, a: new Set(a), b: new Set(b), oneWay: op.oneWay });
        break;
      }
      case 'release':
        if (op.which === 'all') {
          net.release();
          holds = [];
        } else if (holdIds.length > 0) {
          const id = holdIds[op.which % holdIds.length] as number;
          net.release(id);
          holds = holds.filter((r) => r.id !== id);
        }
        break;
      case 'crash':
        net.crash(op.node % n);
        break;
      case 'restart':
        net.restart(op.node % n);
        break;
      case 'latency':
        net.setLinkLatency(op.a % n, op.b % n, op.latency, op.oneWay);
        break;
      case 'loss':
        net.setLossRate(op.a % n, op.b % n, op.loss, op.oneWay);
        break;
    }
  };

  const ops = [...sc.ops].sort((x, y) => x.atNs - y.atNs); // stable: same-time ops keep list order
  for (const o of ops) sim.schedule(o.atNs, apply, o.op, 'test.op');

  const checkAll = (where: string): void => {
    checkIdentity(net.total, net.inFlight, `total ${where}`);
    let sumSentDup = 0;
    let sumDone = 0;
    for (const { counters } of net.linkCounters()) {
      sumSentDup += counters.sent + counters.duplicated;
      sumDone += counters.delivered + droppedTotal(counters);
      expect(counters.sent + counters.duplicated, where).toBeGreaterThanOrEqual(counters.delivered + droppedTotal(counters));
    }
    expect(sumSentDup - sumDone, where).toBe(net.inFlight);
  };

  let steps = 0;
  while (sim.step()) checkAll(`after event ${++steps} at ${sim.now}`);
  // Release parked packets and drain.
  net.release();
  holds = [];
  while (sim.step()) checkAll(`after event ${++steps} at ${sim.now} (drain)`);
  expect(net.inFlight).toBe(0);

  // Receivers got exactly the delivered packets, in order.
  expect(received).toEqual(deliveredLog);

  // Per-link counters are the sums over the trace; totals are the sums over the links.
  const sum = emptyTally();
  let dupSum = 0;
  for (const { from, to, counters } of net.linkCounters()) {
    const t = perLink.get(`${from}>${to}`) ?? emptyTally();
    const where = `link ${from}->${to}`;
    expect(counters.sent, where).toBe(t.sent);
    expect(counters.delivered, where).toBe(t.delivered);
    expect(counters.dropLoss, where).toBe(t.loss);
    expect(counters.dropQueue, where).toBe(t.queue);
    expect(counters.dropPartition, where).toBe(t.partition);
    expect(counters.dropNodeDown, where).toBe(t.node_down);
    expect(counters.bytesSent, where).toBe(t.bytesSent);
    expect(counters.bytesDelivered, where).toBe(t.bytesDelivered);
    // With nothing in flight, every duplicate ended as a delivery or a drop.
    expect(counters.duplicated, where).toBe(t.delivered + t.loss + t.queue + t.partition + t.node_down - t.sent);
    for (const k of Object.keys(sum) as (keyof Tally)[]) sum[k] += t[k];
    dupSum += counters.duplicated;
  }
  expect(perLink.size).toBe([...net.linkCounters()].length);
  expect(net.total.sent).toBe(sum.sent);
  expect(net.total.delivered).toBe(sum.delivered);
  expect(net.total.duplicated).toBe(dupSum);
  expect(droppedTotal(net.total)).toBe(sum.loss + sum.queue + sum.partition + sum.node_down);
  expect(net.total.bytesSent).toBe(sum.bytesSent);
  expect(net.total.bytesDelivered).toBe(sum.bytesDelivered);

  // Every packet's fate: one outcome per copy (1 + at most one duplicate).
  const sends = trace.filter((e) => e.kind === 'send');
  for (const s of sends) {
    const f = fates.get(s.packetId) ?? 0;
    expect(f === 1 || f === 2, `packet ${s.packetId} has ${f} outcomes`).toBe(true);
  }
  return trace;
}

describe('Network invariants under random links and fault schedules', () => {
  it('never delivers across a partition, to a down node or early, and its counters add up at every step', () => {
    fc.assert(
      fc.property(netScenarioArb, (sc) => {
        runChecked(sc);
      }),
      fcParams({ numRuns: 150 }),
    );
  });
});

/** Runs a scenario with no checks; returns what the receivers saw and the total counters. */
function runPlain(sc: NetScenario, observe: boolean): { received: string[]; total: object } {
  const n = sc.nodes;
  const sim = new Simulator({ seed: sc.seed });
  const net = new Network<number>(sim, { nodes: n, defaultLink: sc.defaultLink, perLinkCounters: observe });
  for (const o of sc.overrides) net.setLink(o.from % n, o.to % n, o.link);
  const received: string[] = [];
  for (let i = 0; i < n; i++) net.attach(i, (from, seq, size) => received.push(`${from}>${i}#${seq}:${size}@${sim.now}`));
  if (observe) {
    net.packets.connect(() => undefined);
    net.nodeStatus.connect(() => undefined);
  }
  const partitions: number[] = [];
  const holds: number[] = [];
  let seq = 0;
  const apply = (op: NetScenario['ops'][number]['op']): void => {
    switch (op.op) {
      case 'send':
        for (let k = 0; k < op.count; k++) net.send(op.from % n, op.to % n, seq++, op.sizeBytes);
        break;
      case 'partition': {
        const a = groups(op.groups, n, 0);
        const b = groups(op.groups, n, 1);
        partitions.push(op.oneWay ? net.partitionOneWay(a, b) : net.partition(a, b));
        break;
      }
      case 'repair':
        if (op.which === 'all') net.repair();
        else if (partitions.length > 0) net.repair(partitions[op.which % partitions.length]);
        break;
      case 'hold':
        holds.push(net.hold(groups(op.groups, n, 0), groups(op.groups, n, 1), op.oneWay));
        break;
      case 'release':
        if (op.which === 'all') net.release();
        else if (holds.length > 0) net.release(holds[op.which % holds.length]);
        break;
      case 'crash':
        net.crash(op.node % n);
        break;
      case 'restart':
        net.restart(op.node % n);
        break;
      case 'latency':
        net.setLinkLatency(op.a % n, op.b % n, op.latency, op.oneWay);
        break;
      case 'loss':
        net.setLossRate(op.a % n, op.b % n, op.loss, op.oneWay);
        break;
    }
  };
  for (const o of [...sc.ops].sort((x, y) => x.atNs - y.atNs)) sim.schedule(o.atNs, apply, o.op);
  sim.run();
  net.release();
  sim.run();
  return { received, total: { ...net.total } };
}

describe('Observation does not perturb the network', () => {
  it('trace consumers and per-link counters change neither deliveries nor totals', () => {
    fc.assert(
      fc.property(netScenarioArb, (sc) => {
        expect(runPlain(sc, true)).toEqual(runPlain(sc, false));
      }),
      fcParams({ numRuns: 50 }),
    );
  });
});

describe('A single FIFO bandwidth link', () => {
  it('delivers at exactly the queueing formula and drops exactly the packets the drop-tail limits exclude', () => {
    // Up to 100 sends and 40 waiting packets: the waiting line's ring (16 to start) grows and wraps around.
    // The link is the default one or an override, set again mid-run (its queue must survive that).
    const sendArb = fc.record({ atNs: fc.integer({ min: 0, max: 20_000_000 }), sizeBytes: fc.integer({ min: 1, max: 1500 }) });
    fc.assert(
      fc.property(
        fc.integer({ min: 100_000, max: 50_000_000 }),
        fc.integer({ min: 0, max: 5_000_000 }),
        fc.oneof(fc.constant(Infinity), fc.integer({ min: 0, max: 6 }), fc.integer({ min: 7, max: 40 })),
        fc.oneof(fc.constant(Infinity), fc.integer({ min: 0, max: 5000 })),
        fc.array(sendArb, { minLength: 1, maxLength: 100 }),
        fc.boolean(),
        (bandwidthBps, latencyNs, queuePackets, queueBytes, sendsRaw, override) => {
          const sends = [...sendsRaw].sort((a, b) => a.atNs - b.atNs);
          // The formula: a packet starts when the link is free (busyUntil) or now, whichever is later;
          // it waits in the queue if it cannot start now, and is dropped if the packets already waiting
          // (accepted, not yet started) are queuePackets or more, or their bytes plus its own exceed queueBytes.
          const accepted: { start: number; sizeBytes: number }[] = [];
          const expected: string[] = [];
          let busyUntil = 0;
          sends.forEach((s, i) => {
            const start = Math.max(s.atNs, busyUntil);
            const waiting = accepted.filter((p) => p.start > s.atNs);
            const waitingBytes = waiting.reduce((x, p) => x + p.sizeBytes, 0);
            if (start > s.atNs && (waiting.length >= queuePackets || waitingBytes + s.sizeBytes > queueBytes)) {
              expected.push(`${i} drop queue @${s.atNs}`);
              return;
            }
            const depart = start + Math.round((s.sizeBytes * 8 * 1e9) / bandwidthBps);
            busyUntil = depart;
            accepted.push({ start, sizeBytes: s.sizeBytes });
            expected.push(`${i} deliver @${depart + latencyNs}`);
          });

          const sim = new Simulator();
          const link = { latency: latencyNs, bandwidthBps, queuePackets, queueBytes };
          const net = new Network(sim, { nodes: 2, ...(override ? {} : { defaultLink: link }) });
          if (override) {
            net.setLink(0, 1, link);
            sim.schedule(10_000_000, () => net.setLink(0, 1, { latency: latencyNs }), undefined);
          }
          const got: string[] = [];
          net.packets.connect((ev) => {
            if (ev.kind === 'deliver') got.push(`${ev.packetId} deliver @${ev.timeNs}`);
            if (ev.kind === 'drop') got.push(`${ev.packetId} drop ${ev.cause} @${ev.timeNs}`);
          });
          sends.forEach((s) => sim.schedule(s.atNs, () => net.send(0, 1, null, s.sizeBytes), undefined));
          sim.run();
          const byId = (x: string): number => Number(x.split(' ')[0]);
          expect([...got].sort((a, b) => byId(a) - byId(b))).toEqual(expected);
        },
      ),
      fcParams({ numRuns: 200 }),
    );
  });
});
