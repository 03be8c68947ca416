/**
 * Pins the public API: the names `desim` and `desim/testing` export. Adding
 * or removing an export is a deliberate change to this list (and to the
 * changelog), never an accident of an internal refactor.
 */
import { describe, expect, it } from 'vitest';
import * as desim from '../src/index.js';
import * as testing from '../src/testing/index.js';

describe('public API', () => {
  it('desim exports exactly these names', () => {
    expect(Object.keys(desim).sort()).toEqual([
    'ActionBuffer', 'BUILTIN_DRIVERS', 'CsvWriter', 'DEFAULT_CONFIG', 'DEFAULT_LINK', 'DROP_CAUSES', 'Dumbbell', 'GossipMetrics',
    'GossipNode', 'MAX_TIME', 'MIN_MTU_BYTES', 'MergeResult', 'NS_PER_MS', 'NS_PER_S', 'NS_PER_US', 'Network',
    'Outbox', 'OutputError', 'PRESETS', 'PRESET_NAMES', 'ProtocolError', 'Random', 'RandomStreams', 'RttEstimator', 'RumorList',
    'ScenarioError', 'SimHost', 'SimulationError', 'Simulator', 'SkewedClock', 'Store', 'SweepRunError', 'TcpFlows', 'TcpReceiver', 'TcpSender', 'TcpStack',
    'TraceSource', 'VARIANTS', 'WireError', 'answerDigest', 'answerRequest', 'answerSummary', 'applyFault',
    'buildDigests', 'buildNetwork', 'buildWorld', 'checkScenario', 'collect', 'compareVersion', 'congestionOps', 'congestionState',
    'createControlBlock', 'decode', 'deriveSeed', 'driversFor', 'droppedTotal', 'encode', 'encodedSize',
    'executeScenario', 'finalizeSweep', 'fmt', 'formatFloat', 'formatIssue', 'formatSeconds', 'gossipDriver',
    'isTime', 'isValidEntry', 'jainIndex', 'loadScenario', 'mathisBps', 'mergeSweeps', 'microseconds', 'milliseconds',
    'minDelay', 'moduleDriver', 'newer', 'newreno', 'padhyeBps', 'paginate', 'parseScenarioText', 'parseSets',
    'parseVaries', 'planRuns', 'plotDirectory', 'readScenarioFile', 'renderVegaLite', 'reno', 'renoFamily',
    'renoIncreaseWindow', 'renoSsThresh', 'resolveConfig', 'resolvedScenario', 'rfc5681InitialWindow',
    'rfc6928InitialWindow', 'runModuleScenario', 'runPipeline', 'runScenario', 'runSweep', 'sampleDelay', 'scenarioHash',
    'scenarioJsonSchema', 'scheduleFaults', 'seconds', 'summarize', 'tQuantile975', 'tahoe', 'tcpDriver', 'toCsv',
    'toMilliseconds', 'toSeconds', 'toTimedFaults', 'validateScenario', 'withSeed',
    ]);
  });

  it('desim/testing exports exactly these names', () => {
    expect(Object.keys(testing).sort()).toEqual([
    'PropertyFailure', 'caseToScenario', 'checkProtocol', 'checkTcpDelivery', 'clusterArb', 'clusterCaseArb', 'converged',
    'faultScheduleArb', 'nodeNames', 'runCase', 'runScenarioObject', 'runTcpCase', 'tcpCaseArb', 'tcpCaseToScenario', 'timeArb', 'workloadArb',
    ]);
  });

  it('package.json maps both entry points, types first', async () => {
    const pkg = (await import('../package.json', { with: { type: 'json' } })).default as unknown as { exports: Record<string, Record<string, string>> };
    expect(Object.keys(pkg.exports['.'] ?? {})).toEqual(['types', 'default']);
    expect(Object.keys(pkg.exports['./testing'] ?? {})).toEqual(['types', 'default']);
  });
});
