/**
 * What validation says about bad input: names checked wherever they are
 * referenced, a did-you-mean at every depth, entries after the end refused,
 * sections a protocol would ignore refused, hostile YAML refused with the file
 * named, and problems caused by a --set argument blamed on that argument.
 */
import { describe, expect, it } from 'vitest';
import { BUILTIN_DRIVERS } from '../../src/scenarios/drivers/index.js';
import { ScenarioError } from '../../src/scenarios/errors.js';
import { checkScenario, parseScenarioText, validateScenario } from '../../src/scenarios/loader.js';
import { parseSets } from '../../src/scenarios/overrides.js';

const gossip = `
name: g
duration_s: 10
network: { nodes: [A, B, C], link: { latency_ms: 1, loss: 0 } }
protocol: { gossip: { fanout: 2 } }
workload:
  - { at_s: 1, node: A, op: put, key: k, value: 1 }
faults:
  - { at_s: 2, partition: [[A], [B, C]], name: split }
  - { at_s: 3, repair: split }
outputs: { traces: [deliveries] }
`;
const tcp = `
name: t
duration_s: 3
protocol: { tcp: { bottleneck: { loss: 0.01 } } }
`;

function problems(yaml: string, sets: string[] = []): string[] {
  const o = parseSets(sets);
  if (!o.ok) throw new Error('bad --set in test');
  const r = checkScenario(parseScenarioText(yaml, 'x.yaml'), BUILTIN_DRIVERS, o.overrides);
  return r.ok ? [] : r.issues.map((i) => (i.path === '' ? i.message : `${i.path}: ${i.message}`));
}

describe('references to names are checked, with a did-you-mean', () => {
  it('the valid bases pass', () => {
    expect(problems(gossip)).toEqual([]);
    expect(problems(tcp)).toEqual([]);
  });

  it('repair and release name a partition or hold that exists', () => {
    expect(problems(gossip.replace('repair: split', 'repair: spilt'))).toEqual([
      'faults[1].repair: unknown partition "spilt"; did you mean "split"? (repair takes a partition name or all; named partitions: split)',
    ]);
    expect(problems(gossip.replace('repair: split', 'repair: all'))).toEqual([]);
    expect(problems(gossip.replace('repair: split', 'release: split'))).toEqual([
      'faults[1].release: unknown hold "split" (release takes a hold name or all; no hold has a name: give one `name:`)',
    ]);
  });

  it('outputs.traces names traces the protocol writes', () => {
    expect(problems(gossip.replace('traces: [deliveries]', 'traces: [delivery, infection]'))).toEqual([
      'outputs.traces[0]: unknown trace "delivery"; did you mean "deliveries"? (gossip writes deliveries, infection)',
    ]);
    expect(problems(tcp + 'outputs: { traces: [cwnd, calls] }\n')).toEqual(['outputs.traces[1]: unknown trace "calls" (tcp writes cwnd, segments)']);
  });

  it('nodes in clock settings and workload entries are checked', () => {
    expect(problems(gossip.replace('node: A, op', 'node: a, op'))).toEqual(['workload[0].node: unknown node "a"; did you mean "A"?']);
  });
});

describe('entries that would be ignored are refused', () => {
  it('a workload entry after duration_s, like a fault', () => {
    expect(problems(gossip.replace('at_s: 1, node: A', 'at_s: 11, node: A'))).toEqual([
      'workload[0].at_s: expected a time <= duration_s (10), got 11',
    ]);
  });

  it("a TCP scenario on a network: flows must name their nodes; the dumbbell's keys are refused", () => {
    const onNet = (flow: string, extra = '', faults = ''): string => `
name: t
duration_s: 3
network: { nodes: 2, link: { bandwidth_bps: 1000000 } }
protocol: { tcp: { ${extra}flows: [${flow}] } }
${faults}`;
    expect(problems(onNet('{ variant: reno }', '', 'faults: [{ at_s: 1, crash: n0 }]'))).toEqual([
      'protocol.tcp.flows[0].from: required with a network section: the node the sender runs on',
      'protocol.tcp.flows[0].to: required with a network section: the node the receiver runs on',
      "network.nodes[0]: node n0 runs no TCP end (a flow's from or to): remove it, it would carry nothing",
      "network.nodes[1]: node n1 runs no TCP end (a flow's from or to): remove it, it would carry nothing",
    ]);
    expect(
      problems(
        onNet('{ from: n0, to: n3, extra_rtt_ms: 5 }', 'bottleneck: { loss: 0.01 }, ', 'faults: [{ at_s: 1, restart: n0, keep_state: false }]'),
      ),
    ).toEqual([
      expect.stringMatching(/^protocol\.tcp\.bottleneck: describes the dumbbell; with a network section the path is the network's links/),
      expect.stringMatching(/^protocol\.tcp\.flows\[0\]\.extra_rtt_ms: describes the dumbbell/),
      'protocol.tcp.flows[0].to: unknown node "n3" (nodes: n0, n1)',
      "network.nodes[1]: node n1 runs no TCP end (a flow's from or to): remove it, it would carry nothing",
      expect.stringMatching(/^faults\[0\]\.keep_state: node n0 runs a TCP end, which restarts with its state/),
    ]);
    expect(problems(onNet('{ from: n0, to: n1 }', '', 'faults: [{ at_s: 1, partition: [[n0], [n1]] }, { at_s: 2, repair: all }]'))).toEqual([]);
    // An unlimited flow on a link with neither a rate nor loss would grow its window without bound.
    expect(problems(onNet('{ from: n0, to: n1 }').replace(', link: { bandwidth_bps: 1000000 }', ''))).toEqual([
      expect.stringMatching(
        /^protocol\.tcp\.flows\[0\]\.bytes: the run is estimated at Infinity events \(an unlimited flow on a link without bandwidth_bps or loss/,
      ),
    ]);
  });

  it('a gossip section beside a TCP dumbbell is refused as that, naming the --set that added it', () => {
    const why =
      'the TCP flows run on the dumbbell, and gossip runs on the nodes of a network section; to run both, add network.nodes and give each flow from and to (as the bundled gossip-tcp-shared-link does), else remove protocol.gossip';
    expect(problems(tcp, ['protocol.gossip.fanout=2'])).toEqual([
      `protocol.gossip: added by --set protocol.gossip.fanout=2 to a scenario without a network section: ${why}`,
    ]);
    expect(problems(tcp.replace('{ tcp:', '{ gossip: { fanout: 2 }, tcp:'))).toEqual([
      `protocol.gossip: beside tcp without a network section: ${why}`,
    ]);
    // With a network section the pair is valid as before.
    expect(
      problems(
        tcp.replace('{ tcp: { bottleneck: { loss: 0.01 } } }', '{ gossip: { fanout: 2 }, tcp: { flows: [{ from: A, to: B }] } }') +
          'network: { nodes: [A, B, C], link: { bandwidth_bps: 1000000 } }\n',
      ),
    ).toEqual([]);
  });

  it('faults or flow nodes in a TCP scenario without a network (the dumbbell has no named nodes)', () => {
    expect(problems(tcp + 'faults: [{ at_s: 1, repair: all }]\n')).toEqual(['faults: faults need a network section with nodes']);
    expect(problems(tcp.replace('{ bottleneck: { loss: 0.01 } }', '{ flows: [{ from: A }] }'))).toEqual([
      expect.stringMatching(/^protocol\.tcp\.flows\[0\]\.from: names a node of the network section, and there is none/),
    ]);
  });
});

describe('keys that would do nothing are refused, naming the key', () => {
  it('between, one_way, name and keep_state on a verb that would ignore them; a link override without a link key; a clock entry for a node given twice; a link from a node to itself; a name reused while in force', () => {
    const base = gossip.replace('  - { at_s: 3, repair: split }\n', '');
    expect(problems(base.replace('name: split }', 'name: split, between: [A, B] }'))).toEqual([
      'faults[0].between: between goes with set_latency_ms or set_loss, not partition (it would have no effect)',
    ]);
    expect(problems(gossip.replace('repair: split }', 'repair: split, one_way: true }'))).toEqual([
      'faults[1].one_way: one_way goes with partition or hold or set_latency_ms or set_loss, not repair (it would have no effect)',
    ]);
    expect(problems(gossip.replace('repair: split }', 'repair: split, name: again }'))).toEqual([
      'faults[1].name: name goes with partition or hold, not repair (it would have no effect)',
    ]);
    expect(problems(gossip.replace('repair: split }', 'repair: split }\n  - { at_s: 4, crash: B, keep_state: false }'))).toEqual([
      'faults[2].keep_state: keep_state goes with restart, not crash (it would have no effect)',
    ]);
    expect(problems(gossip.replace('loss: 0 } }', 'loss: 0 }, links: [{ from: A, to: B, both_ways: false }] }'))).toEqual([
      'network.links[0]: sets no link key (latency_ms, jitter_ms, loss, duplicate, bandwidth_bps, queue_packets, queue_bytes, aqm): it would change nothing',
    ]);
    expect(
      problems(gossip.replace('fanout: 2', 'fanout: 2, clock: { nodes: [{ node: A, offset_ms: 5 }, { node: B }, { node: A, drift_ppm: 3 }] }')),
    ).toEqual(['protocol.gossip.clock.nodes[0].node: node "A" again in clock.nodes[2]: give each node one entry']);
    expect(problems(gossip.replace('fanout: 2', 'fanout: 2, wrong_key: [C, Z, C]'))).toEqual([
      expect.stringMatching(/^protocol\.gossip\.wrong_key\[1\]: /),
      'protocol.gossip.wrong_key[2]: node "C" is listed twice',
    ]);
    expect(problems(gossip.replace('repair: split }', 'repair: split }\n  - { at_s: 4, set_latency_ms: 5, between: [B, B] }'))).toEqual([
      'faults[2].between: expected two different nodes, got B twice',
    ]);
    // A name may be used again once its partition is over, not while it is in force.
    const twice = (second: string): string =>
      gossip.replace(
        'repair: split }',
        `repair: split }\n  - { at_s: ${second}, partition: [[B], [C]], name: split }\n  - { at_s: 6, repair: split }`,
      );
    expect(problems(twice('4'))).toEqual([]);
    expect(problems(twice('2.5'))).toEqual([
      'faults[2].name: the partition "split" of faults[0] is still in force: repair it first or choose another name (the first could no longer be ended by name)',
    ]);
    // The keys act where they belong.
    expect(problems(gossip.replace('repair: split }', 'repair: split }\n  - { at_s: 4, set_loss: 0.5, between: [A, B], one_way: true }'))).toEqual(
      [],
    );
  });
});

describe('messages', () => {
  it('did-you-mean at every depth, also inside protocol sections', () => {
    expect(problems(gossip.replace('fanout: 2', 'fanot: 2'))).toEqual(['protocol.gossip.fanot: unknown key; did you mean "fanout"?']);
    expect(problems(gossip.replace('loss: 0 }', 'los: 0 }'))).toEqual(['network.link.los: unknown key; did you mean "loss"?']);
    expect(problems(tcp.replace('bottleneck:', 'bottlenek:'))).toEqual(['protocol.tcp.bottlenek: unknown key; did you mean "bottleneck"?']);
    expect(problems(gossip.replace('fanout: 2', 'anti_entropy: { intervall_s: 3 }'))).toEqual([
      'protocol.gossip.anti_entropy.intervall_s: unknown key; did you mean "interval_s"?',
    ]);
  });

  it('a typo in a gossip preset is the one problem, with a did-you-mean; the other keys are not reported missing', () => {
    expect(problems(gossip.replace('fanout: 2', 'preset: demers-feedback-countr'))).toEqual([
      'protocol.gossip.preset: expected "default" or "original" or "demers-feedback-counter" or "demers-feedback-coin" or "demers-blind-counter" or "demers-blind-coin" or "infect-forever" or "push-pull" or "demers-pull-feedback-counter", got "demers-feedback-countr"; did you mean "demers-feedback-counter"?',
    ]);
    // A real problem beside the typo is still reported.
    expect(problems(gossip.replace('fanout: 2', 'preset: orignal, fanout: 0'))).toEqual([
      expect.stringMatching(/^protocol\.gossip\.preset: expected .*, got "orignal"; did you mean "original"\?$/),
      'protocol.gossip.fanout: expected a number >= 1, got 0',
    ]);
    expect(problems(gossip, ['protocol.gossip.mode=pushh'])).toEqual([
      'protocol.gossip.mode: expected "push" or "push-pull" or "pull" or "off", got "pushh"; did you mean "push"?',
    ]);
  });

  it('a number-or-word key names both, with the range', () => {
    expect(problems(gossip, ['protocol.gossip.connection_limit=unlimited'])).toEqual([
      'protocol.gossip.connection_limit: expected an integer in [1, 1000000] or "none", got "unlimited"',
    ]);
    expect(problems(gossip, ['protocol.gossip.rumor_budget=2.5'])).toEqual([
      'protocol.gossip.rumor_budget: expected an integer in [1, 1000000] or "none", got 2.5',
    ]);
    expect(problems(gossip, ['protocol.gossip.tombstone_gc_s=forever'])).toEqual([
      'protocol.gossip.tombstone_gc_s: expected a number in [1e-9, 1000000] or "never", got "forever"',
    ]);
    expect(problems(gossip, ['protocol.gossip.tombstone_gc_s=nevr'])).toEqual([
      'protocol.gossip.tombstone_gc_s: expected a number in [1e-9, 1000000] or "never", got "nevr"; did you mean "never"?',
    ]);
    expect(problems(tcp, ['protocol.tcp.initial_window=rfc5861'])).toEqual([
      'protocol.tcp.initial_window: expected "rfc5681" or "rfc6928" or a number in [1, 10000], got "rfc5861"; did you mean "rfc5681"?',
    ]);
  });

  it('a workload op that is no op: the word it got, and a did-you-mean', () => {
    expect(problems(gossip.replace('op: put', 'op: putt'))).toEqual([
      'workload[0].op: expected one of "put", "get", "delete", "join", "leave", got "putt"; did you mean "put"?',
    ]);
    expect(problems(gossip.replace('op: put, ', ''))).toEqual(['workload[0].op: required: expected one of "put", "get", "delete", "join", "leave"']);
    expect(problems(gossip.replace('op: put', 'op: [put]'))).toEqual([
      'workload[0].op: expected one of "put", "get", "delete", "join", "leave", got a list of 1',
    ]);
    // Every tagged choice says so: a latency distribution's dist, a queue discipline's kind.
    expect(problems(gossip.replace('latency_ms: 1', 'latency_ms: { dist: uniformm, min_ms: 1, max_ms: 2 }'))).toEqual([
      'network.link.latency_ms.dist: expected one of "constant", "uniform", "exponential", "normal", "lognormal", "pareto", got "uniformm"; did you mean "uniform"?',
    ]);
  });

  it('a bad name says what a name may be', () => {
    for (const name of ['a/b', "''", '"has space"', 'x'.repeat(101)]) {
      const p = problems(gossip.replace('name: g', `name: ${name}`));
      expect(p.join('\n'), name).toMatch(
        /^name: expected (1 to 100 letters, digits, _ \. or -, starting with a letter or digit|at most 100 characters)/,
      );
    }
  });

  it('a YAML alias bomb and deep nesting are refused with the file named, not a crash', () => {
    const bomb = [
      'a: &a [x, x, x, x, x, x, x, x, x, x]',
      ...Array.from(
        { length: 8 },
        (_, i) =>
          `${String.fromCharCode(98 + i)}: &${String.fromCharCode(98 + i)} [${Array(10)
            .fill('*' + String.fromCharCode(97 + i))
            .join(', ')}]`,
      ),
    ].join('\n');
    expect(() => parseScenarioText(bomb, 'bomb.yaml')).toThrow(ScenarioError);
    expect(() => parseScenarioText(bomb, 'bomb.yaml')).toThrow(/^bomb\.yaml: YAML: too many alias expansions/);
    const deepFlow = `name: d\nx: ${'['.repeat(20_000)}${']'.repeat(20_000)}\n`;
    expect(() => parseScenarioText(deepFlow, 'deep.yaml')).toThrow(/^deep\.yaml: nested too deeply/);
    const deepJson = `{"name": "d", "x": ${'{"a": '.repeat(200)}1${'}'.repeat(200)}}`;
    expect(() => parseScenarioText(deepJson, 'deep.json')).toThrow(/^deep\.json: nested too deeply \(at most 64 levels/);
  });

  it('a problem caused by a --set argument names the argument, not the file', () => {
    const sets = parseSets(['name=a/b']);
    if (!sets.ok) throw new Error('bad --set');
    expect(() => validateScenario(parseScenarioText(gossip), BUILTIN_DRIVERS, '/bundled/g.yaml', sets.overrides)).toThrow(
      /^--set name=a\/b: name: expected 1 to 100/,
    );
    const index = parseSets(['workload[5].at_s=1']);
    if (!index.ok) throw new Error('bad --set');
    expect(() => validateScenario(parseScenarioText(gossip), BUILTIN_DRIVERS, '/bundled/g.yaml', index.overrides)).toThrow(
      /^--set workload\[5\]\.at_s=1: workload\[5\]: cannot set/,
    );
    // A problem of the file itself still names the file.
    const ok = parseSets(['seed=3']);
    if (!ok.ok) throw new Error('bad --set');
    expect(() =>
      validateScenario(parseScenarioText(gossip.replace('fanout: 2', 'fanot: 2')), BUILTIN_DRIVERS, '/bundled/g.yaml', ok.overrides),
    ).toThrow(/^\/bundled\/g\.yaml: /);
  });
});

describe('ranges and the work estimate', () => {
  it('values that used to fail or hang in run are refused with the field named', () => {
    expect(problems(gossip, ['duration_s=1e9'])).toEqual(['duration_s: expected a number <= 1000000, got 1000000000']);
    expect(problems(gossip, ['network.link.latency_ms=1e308'])).toEqual(['network.link.latency_ms: expected a number <= 3600000, got 1e+308']);
    expect(problems(gossip, ['network.link.bandwidth_bps=1e-300'])).toEqual(['network.link.bandwidth_bps: expected a number >= 1, got 1e-300']);
    expect(problems(gossip, ['protocol.gossip.interval_s=1e-300'])).toEqual(['protocol.gossip.interval_s: expected a number >= 1e-9, got 1e-300']);
    expect(problems(gossip, ['protocol.gossip.anti_entropy.interval_s=1e308'])).toEqual([
      'protocol.gossip.anti_entropy.interval_s: expected a number <= 1000000, got 1e+308',
    ]);
    expect(problems(gossip, ['protocol.gossip.anti_entropy.interval_s=1e-300'])).toEqual([
      'protocol.gossip.anti_entropy.interval_s: expected 0 (off) or at least 1e-9 (1 ns)',
    ]);
    expect(problems(gossip, ['protocol.gossip.clock.max_offset_ms=1e308'])).toEqual([
      'protocol.gossip.clock.max_offset_ms: expected a number <= 3600000, got 1e+308',
    ]);
    expect(problems(tcp, ['protocol.tcp.initial_window=1e9'])).toEqual(['protocol.tcp.initial_window: expected a number <= 10000, got 1000000000']);
    expect(problems(tcp, ['protocol.tcp.bottleneck.bandwidth_bps=1e308'])).toEqual([
      'protocol.tcp.bottleneck.bandwidth_bps: expected a number <= 1000000000000, got 1e+308',
    ]);
  });

  it('a scenario estimated at an enormous number of events is refused with the estimate and the key', () => {
    expect(problems(gossip, ['protocol.gossip.anti_entropy.interval_s=1e-9'])).toEqual([
      'protocol.gossip.anti_entropy.interval_s: the run is estimated at 1.5e11 events (3 nodes x 10 s / anti_entropy.interval_s 1e-9 x 5), more than the 1.0e9 a run may take: change protocol.gossip.anti_entropy.interval_s or shorten duration_s',
    ]);
    const fast = problems(tcp, ['protocol.tcp.bottleneck.bandwidth_bps=1e12', 'protocol.tcp.bottleneck.loss=0', 'duration_s=30']);
    expect(fast).toHaveLength(1);
    expect(fast[0]).toMatch(
      /^protocol\.tcp\.bottleneck\.bandwidth_bps: the run is estimated at 1\.0e10 events \(1000000000000 bit\/s for 30 s in 1500-byte packets, 4 events each\)/,
    );
    // With loss, the window (Mathis et al.), not the link, bounds the rate: the same link is fine.
    expect(problems(tcp, ['protocol.tcp.bottleneck.bandwidth_bps=1e12', 'duration_s=30'])).toEqual([]);
  });

  it('every bundled scenario is within the ranges and the estimate', async () => {
    const { bundledScenarios, resolveScenarioPath } = await import('../../src/scenarios/bundled.js');
    const { loadScenario } = await import('../../src/scenarios/loader.js');
    for (const name of bundledScenarios()) expect(() => loadScenario(resolveScenarioPath(name), BUILTIN_DRIVERS), name).not.toThrow();
  });
});
