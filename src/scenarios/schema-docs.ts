/**
 * Hover help for scenario files: the description and unit of every key of the
 * JSON Schema that `desim schema` prints, in one table keyed by field path.
 *
 * The emitter ({@link describeJsonSchema}) walks the schema that zod derives
 * from schema.ts and the drivers, and writes each key's `description` as
 * "text. Unit: u. Range: r. Default: d." The range and the default are read
 * from the schema node itself (the one place they are defined), the text and
 * the unit from {@link FIELD_DOCS}. A key the table does not know gets no
 * description, and test/scenarios/schema-docs.spec.ts fails naming it; the
 * wording follows docs/scenario-defaults.md.
 *
 * Field paths are those of docs/scenario-defaults.md's range table: lists are
 * `[]`, the branch of a union picked by a required constant adds `{key=value}`
 * (`network.link.latency_ms{dist=normal}.sd_ms`).
 *
 * @module
 */

/** The text and unit of one key. `unit` is required for numbers ("unitless" when a number has none). */
export interface FieldDoc {
  /** What the key does, one sentence without a final period. */
  readonly text: string;
  /** The unit of a numeric key, as a reader would write it: `s`, `ms`, `bit/s`, `bytes`, `unitless (probability)`. */
  readonly unit?: string;
}

const PROBABILITY = 'unitless (probability)';

/**
 * Descriptions by field path. A key is an exact path (`protocol.gossip.fanout`)
 * or a pattern where `*` stands for any characters (`*.sd_ms` names the same
 * parameter of every latency distribution, `workload[]*.node` every workload
 * entry's node). The exact path wins, then the longest pattern that matches.
 */
export const FIELD_DOCS: Readonly<Record<string, FieldDoc>> = {
  // Top level.
  name: { text: 'Scenario name: letters, digits, _ . -; names the output folder results/<name>/' },
  description: { text: 'One line shown by `desim list`' },
  seed: { text: 'Root seed of every random stream of the run; --seed overrides it', unit: 'unitless (integer)' },
  duration_s: { text: 'Simulated time the run lasts', unit: 's' },
  network: { text: 'Nodes and links (gossip and module protocols, and TCP flows placed on named nodes)' },
  protocol: {
    text: "The protocol to run: exactly one of its sections, or gossip and tcp together (TCP flows beside a gossip cluster), or gossip and swim together (the store on SWIM's membership)",
  },
  workload: { text: "Timed client calls; the entry format is the protocol's" },
  faults: { text: 'Timed fault verbs: each entry has at_s and exactly one verb' },
  outputs: { text: 'What the run writes besides summary.csv and meta.json' },
  'outputs.traces': { text: "Traces to write as CSV: all, none, or a list of the protocol's trace names" },
  'outputs.plots': { text: 'Render plots from the CSVs' },

  // network
  'network.nodes': { text: 'A list of node names, or a count N (names n0 … n{N-1}); ranges such as n0..n24 expand', unit: 'nodes' },
  'network.link': { text: 'The default link of every directed pair of nodes' },
  'network.links': { text: 'Per-pair overrides of the default link: from, to, both_ways and at least one link key' },
  'network.links[].from': { text: 'Node at the sending end of the overridden link' },
  'network.links[].to': { text: 'Node at the receiving end of the overridden link' },
  'network.links[].both_ways': { text: 'Override the reverse direction (to → from) too' },
  'network.regions': {
    text: 'Regions of a large network: nodes cut by fractions or first indices, a latency (and loss) per ordered pair of regions, no record per pair of nodes',
  },
  'network.regions.fractions': {
    text: 'Share of the nodes in each region, in node order, summing to 1 (exactly one of fractions and first)',
    unit: 'unitless (fraction)',
  },
  'network.regions.first': {
    text: 'Node index where each region starts, from 0, increasing (exactly one of fractions and first)',
    unit: 'unitless (node index)',
  },
  'network.regions.latency_ms': { text: 'Latency matrix: one row per region the links start from, one column per region they go to', unit: 'ms' },
  'network.regions.loss': {
    text: 'Loss between regions: one probability for every pair, or a matrix shaped as latency_ms; unset: the link loss',
    unit: PROBABILITY,
  },
  '*.latency_ms': { text: 'Propagation delay: a number of milliseconds, or a distribution { dist, ... }', unit: 'ms' },
  '*.jitter_ms': { text: 'Extra delay drawn uniformly in [0, jitter] per packet (reorders packets)', unit: 'ms' },
  '*.loss': { text: 'Packet loss: a probability, or a Gilbert-Elliott burst model { model: gilbert-elliott, ... }', unit: PROBABILITY },
  '*.duplicate': { text: 'Probability that a packet is delivered twice', unit: PROBABILITY },
  '*.bandwidth_bps': { text: 'Link rate: serialization delay size*8/bandwidth behind a FIFO queue; unset means infinite', unit: 'bit/s' },
  '*.queue_packets': { text: 'Drop-tail limit: packets waiting behind the one being sent; unset means infinite', unit: 'packets' },
  '*.queue_bytes': { text: 'Drop-tail limit in bytes of waiting packets; unset means infinite', unit: 'bytes' },

  // Queue disciplines (network links, protocol.tcp.bottleneck).
  '*.aqm': { text: 'Queue discipline of the link: droptail, red or codel (needs bandwidth_bps); unset: drop-tail' },
  '*.aqm{*}.kind': { text: 'droptail (through the measured queue), red (Floyd and Jacobson 1993) or codel (RFC 8289)' },
  '*.min_th_packets': { text: 'RED min_th: below this average queue nothing is dropped', unit: 'packets' },
  '*.max_th_packets': { text: 'RED max_th: the average queue where the drop probability reaches max_p (more than min_th_packets)', unit: 'packets' },
  '*.max_p': { text: 'RED max_p: the drop probability at max_th', unit: PROBABILITY },
  '*.w_q': { text: 'RED w_q: weight of the EWMA of the queue length', unit: 'unitless (weight)' },
  '*.gentle': { text: 'RED gentle: the probability ramps from max_p to 1 between max_th and 2 max_th instead of jumping to 1' },
  '*.mean_packet_bytes': { text: "RED idle-time rule: the packet size s whose transmission time counts one 'packet' of idle time", unit: 'bytes' },
  '*.target_ms': { text: 'CoDel target: the acceptable standing queueing delay (RFC 8289: 5 ms)', unit: 'ms' },
  '*.interval_ms': { text: 'CoDel interval: how long the delay must stay above target before dropping (RFC 8289: 100 ms)', unit: 'ms' },
  '*.aqm{*}.ecn': { text: 'Mark ECN-capable packets CE (RFC 3168) instead of dropping them' },

  // Latency distributions (network links, set_latency_ms).
  '*.dist': { text: 'The delay distribution: constant, uniform, exponential, normal, lognormal or pareto' },
  '*.ms': { text: 'The constant delay', unit: 'ms' },
  '*.min_ms': { text: 'Lower end of the uniform delay', unit: 'ms' },
  '*.max_ms': { text: 'Upper end of the uniform delay', unit: 'ms' },
  '*.mean_ms': { text: 'Mean delay', unit: 'ms' },
  '*.sd_ms': { text: 'Standard deviation of the normal delay (negative draws are cut at 0)', unit: 'ms' },
  '*.mu': { text: 'Lognormal location: the mean of ln(delay in ms)', unit: 'unitless (ln ms)' },
  '*.sigma': { text: 'Lognormal scale: the standard deviation of ln(delay in ms)', unit: 'unitless (ln ms)' },
  '*.scale_ms': { text: 'Pareto scale: the smallest delay', unit: 'ms' },
  '*.shape': { text: 'Pareto shape (tail index; at most 1 means an infinite mean)', unit: 'unitless' },

  // Gilbert-Elliott loss.
  '*.model': { text: 'The burst-loss model: gilbert-elliott (a two-state Markov chain stepped per packet)' },
  '*.p_good_to_bad': { text: 'Per-packet probability of moving from the good to the bad state', unit: PROBABILITY },
  '*.p_bad_to_good': { text: 'Per-packet probability of moving from the bad to the good state', unit: PROBABILITY },
  '*.loss_good': { text: 'Loss probability in the good state', unit: PROBABILITY },
  '*.loss_bad': { text: 'Loss probability in the bad state', unit: PROBABILITY },

  // faults
  'faults[].at_s': { text: 'When the fault happens, from the start of the run (at most duration_s)', unit: 's' },
  'faults[].partition': { text: 'Cut the links between two groups of nodes (one group: between it and every other node)' },
  'faults[].repair': { text: 'End the partition of this name, or all' },
  'faults[].hold': { text: 'Park packets arriving on the links between two groups until released' },
  'faults[].release': { text: 'Deliver the packets parked by the hold of this name (or all), in arrival order' },
  'faults[].crash': { text: 'Take this node down: it receives nothing and its timers stop' },
  'faults[].restart': { text: 'Bring this node up again' },
  'faults[].keep_state': { text: 'With restart: keep the node state (as if persisted) or start fresh' },
  'faults[].set_latency_ms': { text: 'Change the latency between the two nodes of between: a number of ms or a distribution', unit: 'ms' },
  'faults[].set_loss': { text: 'Change the loss between the two nodes of between: a probability or Gilbert-Elliott', unit: PROBABILITY },
  'faults[].between': { text: 'The two nodes whose links set_latency_ms or set_loss changes' },
  'faults[].one_way': { text: 'Only the direction from the first group (or node) to the second' },
  'faults[].name': { text: 'Name of a partition or hold, for a later repair or release' },

  // protocol.gossip
  'protocol.gossip': { text: 'The gossip-replicated key-value store' },
  'protocol.gossip.preset': { text: 'The preset that fills every unset key of this section' },
  'protocol.gossip.mode': { text: 'Rumor mongering: push, push-pull, pull, or off (anti-entropy only)' },
  'protocol.gossip.timing': { text: 'rounds: gossip at ticks every interval_s; immediate: forward on receipt' },
  'protocol.gossip.fanout': { text: 'Peers contacted per rumor per round', unit: 'peers' },
  'protocol.gossip.interval_s': { text: 'Interval between gossip rounds', unit: 's' },
  'protocol.gossip.phase': { text: 'aligned: synchronous rounds, as in the papers; random: each node its own phase' },
  'protocol.gossip.feedback': { text: 'Lose interest only when told the peer knew (feedback) or regardless (blind)' },
  'protocol.gossip.stop': { text: 'Stop rule: counter (k), coin (probability 1/k), forever, or once (forward once)' },
  'protocol.gossip.k': { text: 'The counter limit, or the coin parameter (lose interest with probability 1/k)', unit: 'unitless (contacts)' },
  'protocol.gossip.counter_reset': {
    text: "true: a rumor is dropped after k consecutive unnecessary contacts (Demers et al.'s rule); false: after k in all",
  },
  'protocol.gossip.round_semantics': {
    text: 'synchronous: what a node learns in a round it serves from the next round; relay: it answers pulls at once',
  },
  'protocol.gossip.connection_limit': { text: 'Rumor connections a node accepts per round, or none (no limit)', unit: 'connections per round' },
  'protocol.gossip.rumor_budget': { text: 'Most rumor messages a node sends per contact, or none (all, every round)', unit: 'messages per contact' },
  'protocol.gossip.wrong_key': {
    text: 'Nodes that seal their datagrams with a key no other node holds: every datagram between one of them and another node is dropped by the receiver',
  },
  'protocol.gossip.forward_probability': { text: 'With stop: once, the probability of forwarding a rumor once', unit: PROBABILITY },
  'protocol.gossip.regossip_anti_entropy': { text: 'A version learned by anti-entropy becomes a hot rumor at the node that learned it' },
  'protocol.gossip.anti_entropy': { text: 'Periodic digest exchanges with one random peer' },
  'protocol.gossip.anti_entropy.interval_s': { text: 'Interval between a node exchanges; 0 turns anti-entropy off', unit: 's' },
  'protocol.gossip.anti_entropy.phase': { text: 'aligned or random, as phase' },
  'protocol.gossip.anti_entropy.mode': { text: 'Direction of the exchanges a node starts: push, pull or push-pull' },
  'protocol.gossip.anti_entropy.mtu_bytes': { text: 'Every message a node sends fits in this many bytes', unit: 'bytes' },
  'protocol.gossip.anti_entropy.digest_buckets': { text: 'Hash buckets of the digest', unit: 'buckets' },
  'protocol.gossip.tombstone_gc_s': {
    text: 'Collect a tombstone once it is this old and every peer has confirmed holding it, or never',
    unit: 's',
  },
  'protocol.gossip.clock': { text: "Each node's clock: kind, skew and the bound on timestamps from the future" },
  'protocol.gossip.clock.kind': { text: "hlc: hybrid logical clock; physical: the node's skewed physical clock alone" },
  'protocol.gossip.clock.max_offset_ms': { text: "Each node's clock offset is drawn uniformly in ±max", unit: 'ms' },
  'protocol.gossip.clock.max_drift_ppm': { text: "Each node's clock drift is drawn uniformly in ±max", unit: 'ppm' },
  'protocol.gossip.clock.max_ahead_ms': {
    text: "A received version stamped more than this ahead of the receiver's physical clock is dropped and counted",
    unit: 'ms',
  },
  'protocol.gossip.clock.nodes': { text: 'Per-node clock settings, one entry per node, instead of drawn ones' },
  'protocol.gossip.clock.nodes[].node': { text: 'The node' },
  'protocol.gossip.clock.nodes[].offset_ms': { text: "The node's clock offset from true time", unit: 'ms' },
  'protocol.gossip.clock.nodes[].drift_ppm': { text: "The node's clock drift", unit: 'ppm' },

  // protocol.tcp
  'protocol.tcp': { text: 'Packet-level TCP flows over a dumbbell bottleneck, or over the network section' },
  'protocol.tcp.preset': { text: "original: the original demo's values (Reno, 2% loss, 100 ms RTT, initial window 1) for unset keys" },
  'protocol.tcp.bottleneck': { text: 'The shared forward link of the dumbbell' },
  'protocol.tcp.bottleneck.bandwidth_bps': { text: 'Bottleneck rate', unit: 'bit/s' },
  'protocol.tcp.bottleneck.delay_ms': { text: 'One-way propagation delay of the forward path', unit: 'ms' },
  'protocol.tcp.bottleneck.queue_packets': { text: 'Drop-tail queue of the bottleneck', unit: 'packets' },
  'protocol.tcp.bottleneck.loss': { text: 'Data loss at the bottleneck: a probability or Gilbert-Elliott', unit: PROBABILITY },
  'protocol.tcp.return_path': { text: 'The ACK path of the dumbbell' },
  'protocol.tcp.return_path.delay_ms': { text: 'One-way delay of the ACK path', unit: 'ms' },
  'protocol.tcp.return_path.loss': { text: 'ACK loss: a probability or Gilbert-Elliott', unit: PROBABILITY },
  'protocol.tcp.return_path.bandwidth_bps': {
    text: "Rate of each flow's return link (unset: unlimited); ACKs then queue and leave spaced by their serialization time",
    unit: 'bit/s',
  },
  'protocol.tcp.return_path.queue_packets': {
    text: "Drop-tail queue of each flow's return link (unset: unlimited); needs bandwidth_bps",
    unit: 'packets',
  },
  'protocol.tcp.mss_bytes': { text: 'Segment payload', unit: 'bytes' },
  'protocol.tcp.header_bytes': { text: 'Per-packet header on the wire', unit: 'bytes' },
  'protocol.tcp.initial_window': { text: 'rfc5681 (2 to 4 segments by MSS), rfc6928 (10), or a number of segments', unit: 'segments' },
  'protocol.tcp.min_rto_s': { text: 'RFC 6298 minimum retransmission timeout', unit: 's' },
  'protocol.tcp.delayed_ack': { text: 'ACK every second segment, or after delayed_ack_ms' },
  'protocol.tcp.delayed_ack_ms': { text: 'Longest an ACK is delayed (RFC 1122: less than 500 ms)', unit: 'ms' },
  'protocol.tcp.sack': { text: "SACK for every flow: RFC 2018 blocks and RFC 6675 recovery (a flow's own sack overrides it; refused on tahoe)" },
  'protocol.tcp.limited_transmit': { text: 'With SACK: RFC 3042 limited transmit (unset: on); refused without a SACK flow' },
  'protocol.tcp.prr': { text: 'With SACK: RFC 6937 Proportional Rate Reduction in recovery (unset: on); refused without a SACK flow' },
  'protocol.tcp.rack': {
    text: "With SACK: RFC 8985 RACK-TLP, time-based loss detection and tail loss probe (unset: on; a flow's own rack overrides it); true refused without a SACK flow",
  },
  'protocol.tcp.initial_ssthresh_pkts': { text: 'Initial slow-start threshold, or unlimited (RFC 5681 3.1: arbitrarily high)', unit: 'segments' },
  'protocol.tcp.rwnd_bytes': { text: 'Receive window every receiver advertises, or unlimited; at least mss_bytes', unit: 'bytes' },
  'protocol.tcp.recovery_exit': {
    text: 'rfc: the ACK that ends fast recovery only deflates cwnd to ssthresh; linux: it also counts toward window growth (Linux, ns-3)',
  },
  'protocol.tcp.flows': { text: 'The TCP flows, one sender and receiver each' },
  'protocol.tcp.flows[].variant': {
    text: 'Congestion control: tahoe, reno, newreno or cubic (RFC 9438, beta 0.7, C 0.4; NewReno recovery, RFC 6675 with sack)',
  },
  'protocol.tcp.flows[].name': { text: 'Name in traces and tables (default flow<i>)' },
  'protocol.tcp.flows[].start_s': { text: 'When the application starts sending', unit: 's' },
  'protocol.tcp.flows[].extra_rtt_ms': { text: "Delay added to this flow's RTT, on its own return link", unit: 'ms' },
  'protocol.tcp.flows[].bytes': { text: 'Bytes to send, or unlimited', unit: 'bytes' },
  'protocol.tcp.flows[].from': { text: "With a network section: the sender's node" },
  'protocol.tcp.flows[].to': { text: "With a network section: the receiver's node" },
  'protocol.tcp.flows[].sack': { text: "SACK for this flow (default: the section's sack)" },
  'protocol.tcp.flows[].rack': { text: "RACK-TLP for this flow (default: the section's rack); true refused without SACK" },
  'protocol.tcp.flows[].initial_ssthresh_pkts': { text: "Initial ssthresh of this flow (default: the section's)", unit: 'segments' },
  'protocol.tcp.flows[].rwnd_bytes': { text: "Receive window of this flow's receiver (default: the section's)", unit: 'bytes' },
  'protocol.tcp.flows[].ecn': { text: "ECN for this flow (default: the section's ecn)" },
  'protocol.tcp.ecn': {
    text: "ECN (RFC 3168) for every flow: ECN-capable segments, ECE echoed until CWR, one window reduction per RTT (a flow's own ecn overrides it; needs a queue discipline with ecn: true)",
  },

  // protocol.module
  'protocol.swim': { text: 'SWIM group membership and failure detection (Das et al. 2002), with Lifeguard as an option' },
  'protocol.swim.interval_s': { text: 'The protocol period T: each member probes one member per period', unit: 's' },
  'protocol.swim.probe_timeout_s': { text: 'Wait for a direct ack before asking others to probe; less than interval_s', unit: 's' },
  'protocol.swim.indirect_checks': { text: 'k, the members asked to probe the target after a missed ack', unit: 'members' },
  'protocol.swim.retransmit_mult': { text: 'lambda: each update is piggybacked lambda * ceil(log10(n + 1)) times', unit: 'unitless (multiplier)' },
  'protocol.swim.max_piggyback': { text: 'Most updates carried by one message', unit: 'updates per message' },
  'protocol.swim.suspicion': { text: 'A failed probe makes the target suspect, dead after a timeout; false: dead at once' },
  'protocol.swim.suspicion_mult': { text: 'The suspicion timeout is suspicion_mult * max(1, log10 n) periods', unit: 'unitless (multiplier)' },
  'protocol.swim.lifeguard': { text: "Lifeguard: local health multiplier, nacks, dynamic suspicion timeout (memberlist's)" },
  'protocol.swim.suspicion_max_timeout_mult': {
    text: 'Lifeguard: the suspicion timeout with no confirmation, in base timeouts',
    unit: 'unitless (multiplier)',
  },
  'protocol.swim.awareness_max_multiplier': { text: "Lifeguard: a member's health score ranges over 0 to this - 1", unit: 'unitless (multiplier)' },
  'protocol.swim.reconnect_interval_s': { text: 'How often a member syncs its table with one member it holds dead; 0 turns it off', unit: 's' },
  'protocol.swim.push_pull_interval_s': {
    text: 'How often a member syncs its table with one random live member (times ceil(log2 n - 5) + 1 above 32 members); 0 turns it off',
    unit: 's',
  },
  'protocol.swim.phase': { text: 'aligned: every member starts its periods at multiples of T; random: each its own offset' },
  'protocol.swim.piggyback_on_store': {
    text: "With protocol.gossip: SWIM's updates also ride on the store's gossip (default true); refused without protocol.gossip",
  },
  'protocol.swim.initial': { text: 'The group at time 0: all nodes, or the first N (the rest may join later)', unit: 'nodes' },
  'protocol.swim.seeds': { text: 'Nodes a joining or restarted member syncs with, in turn (default: the initial members)' },
  'protocol.swim.churn': { text: 'Random joins and failures (Poisson processes) over [from_s, to_s)' },
  'protocol.swim.churn.from_s': { text: 'Churn starts', unit: 's' },
  'protocol.swim.churn.to_s': { text: 'Churn ends', unit: 's' },
  'protocol.swim.churn.joins_per_second': { text: 'Rate of joins: a random node outside the group joins', unit: 'joins/s' },
  'protocol.swim.churn.failures_per_second': { text: 'Rate of failures: a random live member crashes', unit: 'failures/s' },
  'protocol.module': { text: 'Your own sans-I/O protocol module' },
  'protocol.module.path': {
    text: 'ES module exporting createNode(id, ctx): a file (./, ../ or /, relative to the scenario file) or a package name',
  },
  'protocol.module.options': { text: "Passed to createNode as ctx.options; the module's own keys" },

  // workload
  'workload[]*.at_s': { text: 'When the call is made, from the start of the run', unit: 's' },
  'workload[]*.node': { text: 'The node that takes the call' },
  'workload[]*.op': { text: 'The operation: put, get or delete (gossip); join or leave (swim)' },
  'workload[]*.key': { text: 'The key' },
  'workload[]*.value': { text: 'The value written: a JSON scalar (string, number, boolean or null)', unit: 'unitless (your value)' },
  'workload[]*.call': { text: "Passed to the node's handleCall" },
};

type Json = Record<string, unknown>;

const isObject = (x: unknown): x is Json => typeof x === 'object' && x !== null && !Array.isArray(x);

/** True when the node is, or may be (a union branch), a number. */
export function isNumericNode(n: Json): boolean {
  const t = n['type'];
  if (t === 'number' || t === 'integer' || (Array.isArray(t) && (t.includes('number') || t.includes('integer')))) return true;
  return [...((n['anyOf'] as Json[] | undefined) ?? []), ...((n['oneOf'] as Json[] | undefined) ?? [])].some((a) => isObject(a) && isNumericNode(a));
}

/** `a number in [0, 3600000]`, `an integer in [1, 65535]`, from the node or its first numeric union branch. */
export function numberRange(n: Json): string | undefined {
  const t = n['type'];
  if (t === 'number' || t === 'integer' || (Array.isArray(t) && (t.includes('number') || t.includes('integer')))) {
    const num = (k: string): number | undefined => (typeof n[k] === 'number' ? n[k] : undefined);
    const [min, xmin, max, xmax] = [num('minimum'), num('exclusiveMinimum'), num('maximum'), num('exclusiveMaximum')];
    const lo = min !== undefined ? `[${min}` : xmin !== undefined ? `(${xmin}` : undefined;
    const hi = max !== undefined ? `${max}]` : xmax !== undefined ? `${xmax})` : undefined;
    return lo !== undefined && hi !== undefined ? `${t === 'integer' ? 'an integer' : 'a number'} in ${lo}, ${hi}` : undefined;
  }
  for (const a of [...((n['anyOf'] as Json[] | undefined) ?? []), ...((n['oneOf'] as Json[] | undefined) ?? [])]) {
    const r = isObject(a) ? numberRange(a) : undefined;
    if (r !== undefined) return r;
  }
  return undefined;
}

const globs = new Map<string, RegExp>();
function glob(key: string): RegExp {
  let re = globs.get(key);
  if (re === undefined) {
    re = new RegExp(
      `^${key
        .split('*')
        .map((p) => p.replace(/[.*+?^${}()|[\]\\]/g, '\\$&'))
        .join('.*')}$`,
    );
    globs.set(key, re);
  }
  return re;
}

/** The entry of {@link FIELD_DOCS} for a field path: the exact path, else the longest pattern that matches it. */
export function fieldDoc(path: string): FieldDoc | undefined {
  const exact = FIELD_DOCS[path];
  if (exact !== undefined) return exact;
  let best: [string, FieldDoc] | undefined;
  for (const [key, doc] of Object.entries(FIELD_DOCS)) {
    if (key.includes('*') && glob(key).test(path) && (best === undefined || key.length > best[0].length)) best = [key, doc];
  }
  return best?.[1];
}

/** The description a key gets: text, unit, range and default. */
function describe(doc: FieldDoc, node: Json): string {
  const parts = [`${doc.text}.`];
  if (doc.unit !== undefined) parts.push(`Unit: ${doc.unit}.`);
  const range = numberRange(node);
  if (range !== undefined) parts.push(`Range: ${range}.`);
  if (node['default'] !== undefined) parts.push(`Default: ${JSON.stringify(node['default'])}.`);
  return parts.join(' ');
}

/** One key of the walk: its field path and schema node (as {@link describeJsonSchema} and its test see them). */
export interface SchemaKey {
  readonly path: string;
  readonly node: Json;
}

/**
 * Every key (object property) of a JSON Schema, depth first, with its field
 * path: lists add `[]`, a union branch picked by a required constant adds
 * `{key=value}`.
 */
export function schemaKeys(node: Json, prefix = '', out: SchemaKey[] = []): SchemaKey[] {
  const properties = node['properties'];
  if (isObject(properties)) {
    const required = (node['required'] as string[] | undefined) ?? [];
    const tag = Object.entries(properties).find(([k, v]) => isObject(v) && v['const'] !== undefined && required.includes(k));
    const here = tag !== undefined ? `${prefix}{${tag[0]}=${String((tag[1] as Json)['const'])}}` : prefix;
    for (const [k, v] of Object.entries(properties)) {
      if (!isObject(v)) continue;
      const path = here === '' ? k : `${here}.${k}`;
      out.push({ path, node: v });
      schemaKeys(v, path, out);
    }
  }
  for (const alt of [...((node['anyOf'] as unknown[] | undefined) ?? []), ...((node['oneOf'] as unknown[] | undefined) ?? [])])
    if (isObject(alt)) schemaKeys(alt, prefix, out);
  const items = node['items'];
  if (isObject(items)) schemaKeys(items, `${prefix}[]`, out);
  return out;
}

/**
 * Adds a `description` to every key of a scenario JSON Schema that
 * {@link FIELD_DOCS} knows (in place; returns the schema).
 */
export function describeJsonSchema<T extends object>(schema: T): T {
  const root = schema as unknown as Json;
  root['description'] ??=
    'A desim scenario file: one run of a protocol on a simulated network. Every key, its default and its unit: docs/scenario-defaults.md.';
  for (const { path, node } of schemaKeys(root)) {
    const doc = fieldDoc(path);
    if (doc !== undefined) node['description'] = describe(doc, node);
  }
  return schema;
}
