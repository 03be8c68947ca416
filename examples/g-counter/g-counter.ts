/**
 * A user protocol on desim: a grow-only counter (G-counter CRDT).
 *
 * Each node counts its own increments in a vector indexed by node id; the
 * counter's value is the vector's sum. Every 50 ms a node sends its vector to
 * one random peer, and a receiver merges. The correct merge is the
 * element-wise maximum (commutative, associative, idempotent), so every node
 * converges to the number of increments once faults heal.
 *
 * `options.merge: larger-total` is a deliberately broken variant: it keeps
 * whichever vector has the larger sum (last-writer-wins on the total), which
 * loses increments made concurrently at different nodes. The property test in
 * g-counter.spec.ts finds it, and writes a scenario that `desim run` replays.
 */
import { Outbox, type NodeId, type ProtocolNode } from 'desim';
import type { ClusterView, NodeContext } from 'desim/testing';

type Msg = { readonly counts: readonly number[] };
type Call = { readonly op: 'incr' } | { readonly op: 'read' };

const GOSSIP_NS = 50_000_000;

export class GCounterNode implements ProtocolNode<Msg, Call, number> {
  counts: number[];
  private readonly out = new Outbox<Msg>();

  constructor(
    readonly id: NodeId,
    private readonly ctx: NodeContext,
  ) {
    this.counts = new Array<number>(ctx.names.length).fill(0);
  }

  get value(): number {
    return this.counts.reduce((a, b) => a + b, 0);
  }

  start(now: number): void {
    this.out.setTimer('gossip', now + GOSSIP_NS);
  }

  handleCall(call: Call): number {
    if (call.op === 'incr') this.counts[this.id] = (this.counts[this.id] ?? 0) + 1;
    return this.value;
  }

  handleTimer(_timer: string, now: number): void {
    const peer = this.ctx.rng.choice(this.ctx.peers);
    this.out.send(peer, { counts: [...this.counts] }, 8 * this.counts.length);
    this.out.setTimer('gossip', now + GOSSIP_NS);
  }

  handleMessage(_from: NodeId, msg: Msg): void {
    const counts: unknown = msg.counts; // from the wire: checked before its type is trusted
    if (!Array.isArray(counts) || msg.counts.length !== this.counts.length) return; // count-and-drop in real code
    if (this.ctx.options['merge'] === 'larger-total') {
      const theirs = msg.counts.reduce((a, b) => a + b, 0);
      if (theirs > this.value) this.counts = [...msg.counts];
    } else {
      this.counts = this.counts.map((c, i) => Math.max(c, msg.counts[i] ?? 0));
    }
  }

  pollActions() {
    return this.out.drain();
  }
}

export function createNode(id: NodeId, ctx: NodeContext): GCounterNode {
  return new GCounterNode(id, ctx);
}

/** Every live node reads the number of increments that were accepted (made at a node that was up). */
export function invariant(view: ClusterView<Msg, Call, number>): string | undefined {
  const accepted = view.calls.filter((c) => c.call.op === 'incr' && c.error === undefined).length;
  for (let i = 0; i < view.nodes.length; i++) {
    if (!view.up[i]) continue;
    const v = (view.nodes[i] as GCounterNode).value;
    if (v !== accepted) return `node ${view.names[i]} reads ${v}, but ${accepted} increments were accepted`;
  }
  return undefined;
}
