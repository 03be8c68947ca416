/**
 * What a SWIM run measures, from the members' `member` traces and the ground
 * truth the cluster tells it (who is in the group and up):
 *
 * - for each change of the group (a member fails, joins or leaves): the
 *   detection time of a failure (from the crash to the first member that
 *   suspects it, or declares it dead without suspicion, after a failed probe of
 *   its own) and the time for every member to learn the change (from the change to the first
 *   instant every live member holds the member dead or left, or, for a join,
 *   alive or suspect);
 * - false positives: a member declaring a live member dead on its own (a
 *   failed probe without suspicion, or an expired suspicion), and false
 *   suspicions (a failed probe of a live member);
 * - false deaths: the distinct (member, incarnation) pairs of live members
 *   declared dead on some member's own evidence, i.e. how many times a live
 *   member was put out of the group. Several members whose own suspicion
 *   timers expire for the same suspicion (Lifeguard's timers differ by
 *   member, so they rarely hear the first declaration in time) make several
 *   false positives but one false death;
 * - the member-time the group lived, to turn message counts into messages per
 *   member per protocol period.
 *
 * Only the latest change about a member is followed; an earlier one not yet
 * known by every member then stays unfinished (NaN).
 */
import type { NodeId } from '../net/network.js';

/** Kinds of group change. */
export type ChangeKind = 'fail' | 'join' | 'leave';

/** One change of the group and what the members made of it. */
export interface ChangeRecord {
  readonly kind: ChangeKind;
  readonly node: NodeId;
  readonly atNs: number;
  /** A failure: first suspicion (or death) raised by a failed probe, or -1. */
  detectedNs: number;
  /** A failure: first time a member declared it dead on its own (an expired suspicion, or a failed probe without suspicion), or -1. */
  confirmedNs: number;
  /** First instant every live member held the new state, or -1. */
  allKnowNs: number;
}

interface Open {
  readonly record: ChangeRecord;
  readonly knowers: Set<NodeId>;
  liveKnowers: number;
}

/** Follows the changes of a SWIM group; see the module comment. */
export class SwimMetrics {
  readonly changes: ChangeRecord[] = [];
  falsePositives = 0;
  falseSuspicions = 0;
  /** The `member:incarnation` pairs of live members declared dead on a member's own evidence. */
  private readonly falseDeathKeys = new Set<string>();
  private readonly inGroup: Uint8Array;
  private groupSize = 0;
  private readonly open = new Map<NodeId, Open>();
  private memberNs = 0;
  private lastNs = 0;

  constructor(n: number) {
    this.inGroup = new Uint8Array(n);
  }

  /** Distinct live members (at an incarnation) declared dead on a member's own evidence; see the module comment. */
  get falseDeaths(): number {
    return this.falseDeathKeys.size;
  }

  /** True when `id` is in the group and up. */
  isLive(id: NodeId): boolean {
    return this.inGroup[id] === 1;
  }

  /** Members in the group and up now. */
  get liveCount(): number {
    return this.groupSize;
  }

  /** Live member-nanoseconds up to `nowNs`. */
  memberTimeNs(nowNs: number): number {
    return this.memberNs + this.groupSize * (nowNs - this.lastNs);
  }

  /** `id` is in the group from the start (no change recorded). */
  initial(id: NodeId): void {
    if (this.inGroup[id] === 1) return;
    this.inGroup[id] = 1;
    this.groupSize++;
  }

  /** A group change happened to `id` at `nowNs`. */
  change(kind: ChangeKind, id: NodeId, nowNs: number): void {
    this.advance(nowNs);
    const wasLive = this.inGroup[id] === 1;
    if (kind === 'join') {
      if (wasLive) return;
      this.inGroup[id] = 1;
      this.groupSize++;
      for (const o of this.open.values()) if (o.knowers.has(id)) o.liveKnowers++;
    } else {
      if (!wasLive) return;
      this.inGroup[id] = 0;
      this.groupSize--;
      // It no longer counts as a knower of other changes.
      for (const o of this.open.values()) if (o.knowers.has(id)) o.liveKnowers--;
    }
    const record: ChangeRecord = { kind, node: id, atNs: nowNs, detectedNs: -1, confirmedNs: -1, allKnowNs: -1 };
    this.changes.push(record);
    this.open.set(id, { record, knowers: new Set(), liveKnowers: 0 });
    this.checkAll(nowNs);
  }

  /** Observer `observer` now holds `member` in `state` at `incarnation`, changed `via`. */
  observe(observer: NodeId, member: NodeId, state: string, via: string, nowNs: number, incarnation = 0): void {
    if (observer === member) return;
    const live = this.inGroup[member] === 1;
    const originated = via === 'probe' || via === 'timeout';
    if (originated && live && this.inGroup[observer] === 1) {
      if (state === 'dead') {
        this.falsePositives++;
        this.falseDeathKeys.add(`${member}:${incarnation}`);
      } else if (state === 'suspect') this.falseSuspicions++;
    }
    const o = this.open.get(member);
    if (o === undefined) return;
    const r = o.record;
    if (r.kind === 'fail' && r.detectedNs < 0 && via === 'probe' && (state === 'suspect' || state === 'dead')) r.detectedNs = nowNs;
    if (r.kind === 'fail' && r.confirmedNs < 0 && originated && state === 'dead') r.confirmedNs = nowNs;
    const knows = r.kind === 'join' ? state === 'alive' || state === 'suspect' : state === 'dead' || state === 'left';
    const had = o.knowers.has(observer);
    if (knows && !had) {
      o.knowers.add(observer);
      if (this.inGroup[observer] === 1) o.liveKnowers++;
    } else if (!knows && had) {
      o.knowers.delete(observer);
      if (this.inGroup[observer] === 1) o.liveKnowers--;
    }
    this.check(member, o, nowNs);
  }

  private check(member: NodeId, o: Open, nowNs: number): void {
    const others = this.groupSize - (this.inGroup[member] === 1 ? 1 : 0);
    if (o.record.allKnowNs < 0 && o.liveKnowers >= others) o.record.allKnowNs = nowNs;
    if (o.record.allKnowNs >= 0 && (o.record.kind !== 'fail' || o.record.detectedNs >= 0)) this.open.delete(member);
  }

  private checkAll(nowNs: number): void {
    for (const [m, o] of [...this.open]) this.check(m, o, nowNs);
  }

  private advance(nowNs: number): void {
    this.memberNs += this.groupSize * (nowNs - this.lastNs);
    this.lastNs = nowNs;
  }
}
