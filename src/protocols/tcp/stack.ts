/**
 * A host's TCP: the senders and receivers of every flow with an end at one
 * network node, as one sans-I/O {@link ProtocolNode}. Packets are
 * demultiplexed by flow id (as a real stack does by port pair): an ACK goes to
 * the flow's sender, a data segment to its receiver. Each machine keeps its
 * own timer names (`rto:<flow>` and so on, given at construction), and all
 * share the stack's {@link ActionBuffer}, so their actions come out in the
 * order they were queued.
 */
import type { Action, NodeId, ProtocolNode, Time } from '../sans-io.js';
import type { ActionBuffer } from './action-buffer.js';
import type { TcpPacket } from './packet.js';
import type { TcpReceiver } from './receiver.js';
import type { TcpSender } from './sender.js';

/** The TCP endpoints of one node. */
export class TcpStack implements ProtocolNode<TcpPacket> {
  private readonly senders: (TcpSender | undefined)[] = [];
  private readonly receivers: (TcpReceiver | undefined)[] = [];
  private readonly byTimer = new Map<string, ProtocolNode<TcpPacket>>();

  /**
   * @param actions the buffer every machine given here was built with
   * @param machines the senders and receivers, started in this order
   */
  constructor(
    private readonly actions: ActionBuffer<TcpPacket>,
    readonly machines: readonly (TcpSender | TcpReceiver)[],
  ) {
    for (const m of machines) {
      if ('timers' in m) {
        if (this.senders[m.flow] !== undefined) throw new RangeError(`TcpStack: two senders of flow ${m.flow}`);
        this.senders[m.flow] = m;
        this.byTimer.set(m.timers.open, m);
        this.byTimer.set(m.timers.rto, m);
      } else {
        if (this.receivers[m.flow] !== undefined) throw new RangeError(`TcpStack: two receivers of flow ${m.flow}`);
        this.receivers[m.flow] = m;
        this.byTimer.set(m.timer, m);
      }
    }
    if (this.byTimer.size !== machines.reduce((n, m) => n + ('timers' in m ? 2 : 1), 0))
      throw new RangeError('TcpStack: two machines share a timer name');
  }

  /** The sender of `flow` here, if any. */
  sender(flow: number): TcpSender | undefined {
    return this.senders[flow];
  }

  /** The receiver of `flow` here, if any. */
  receiver(flow: number): TcpReceiver | undefined {
    return this.receivers[flow];
  }

  start(now: Time): void {
    for (const m of this.machines) m.start(now);
  }

  /** An ACK goes to the flow's sender, a data segment to its receiver; a packet of a flow not here is dropped. */
  handleMessage(from: NodeId, msg: TcpPacket, now: Time): void {
    const m = msg.len === 0 ? this.senders[msg.flow] : this.receivers[msg.flow];
    if (m !== undefined) m.handleMessage(from, msg, now);
  }

  handleTimer(timer: string, now: Time): void {
    const m = this.byTimer.get(timer);
    if (m !== undefined) m.handleTimer(timer, now);
  }

  pollActions(): readonly Action<TcpPacket>[] {
    return this.actions.poll();
  }
}
