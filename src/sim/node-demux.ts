/**
 * Several protocols on the same nodes of one {@link Network}: a demultiplexer
 * per node, so that a node may run a gossip node and TCP ends side by side.
 *
 * Theory of operation. The network hands each node's packets to one
 * receiver (or to one dispatcher for every node without a receiver), and a
 * {@link SimHost} attaches its receivers when it is built. So each protocol's
 * binding is built inside {@link NodeDemux.bind}, which records the receivers
 * and dispatcher the binding attaches instead of letting them replace each
 * other. {@link NodeDemux.install} then attaches to every node one receiver
 * that hands each packet to the binding whose `owns(msg)` recognises it (the
 * first, in the order the bindings were added), or to the only binding on
 * the node. A packet no binding on its node owns is a bug and throws.
 *
 * Messages are tagged by their protocol's own wire shape (a TCP segment or
 * ACK, a gossip message with its `type`), so the demultiplexer adds no
 * header, no bytes and no allocation; senders use the network as before,
 * and every link, queue and fault treats both protocols' packets alike.
 */
import type { Dispatcher, Network, NodeId, Receiver } from '../net/network.js';

/** What one binding attached while it was built. */
interface Binding<M> {
  readonly owns: (msg: M) => boolean;
  readonly receivers: (Receiver<M> | undefined)[];
  dispatcher: Dispatcher<M> | undefined;
}

/** Records each protocol's receivers, then routes every node's packets to the protocol that owns them. */
export class NodeDemux<M> {
  private readonly bindings: Binding<M>[] = [];
  private installed = false;

  constructor(readonly net: Network<M>) {}

  /**
   * Runs `build` (which builds one protocol's binding: a host, a cluster,
   * flows), recording the receivers it attaches to the network rather than
   * attaching them; `owns` recognises that protocol's messages.
   */
  bind<T>(owns: (msg: M) => boolean, build: () => T): T {
    if (this.installed) throw new Error('NodeDemux: bind after install');
    const b: Binding<M> = { owns, receivers: [], dispatcher: undefined };
    this.bindings.push(b);
    // Shadow the three methods a host uses to attach, for the time of `build` only.
    const net = this.net as unknown as Record<'attach' | 'detach' | 'attachAll', unknown>;
    net.attach = (node: NodeId, r: Receiver<M>): void => {
      b.receivers[node] = r;
    };
    net.detach = (node: NodeId): void => {
      b.receivers[node] = undefined;
    };
    net.attachAll = (d: Dispatcher<M>): void => {
      b.dispatcher = d;
    };
    try {
      return build();
    } finally {
      delete net.attach;
      delete net.detach;
      delete net.attachAll;
    }
  }

  /** Attaches one receiver per node that routes each packet to the binding that owns it. Call once, after every {@link bind}. */
  install(): void {
    if (this.installed) throw new Error('NodeDemux: installed twice');
    this.installed = true;
    const net = this.net;
    for (let node = 0; node < net.nodeCount; node++) {
      const routes: { owns: (msg: M) => boolean; receive: Receiver<M> }[] = [];
      for (const b of this.bindings) {
        const own = b.receivers[node];
        const d = b.dispatcher;
        const receive: Receiver<M> | undefined =
          own ?? (d === undefined ? undefined : (from: NodeId, msg: M, sizeBytes: number) => d(node, from, msg, sizeBytes));
        if (receive !== undefined) routes.push({ owns: b.owns, receive });
      }
      if (routes.length === 0) {
        net.detach(node);
        continue;
      }
      if (routes.length === 1) {
        net.attach(node, (routes[0] as (typeof routes)[number]).receive);
        continue;
      }
      net.attach(node, (from, msg, sizeBytes) => {
        for (const r of routes) {
          if (r.owns(msg)) {
            r.receive(from, msg, sizeBytes);
            return;
          }
        }
        throw new Error(`NodeDemux: node ${node} got a message from node ${from} that no protocol on it owns`);
      });
    }
  }
}
