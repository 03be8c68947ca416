/**
 * The simulator bindings: what connects the sans-I/O protocols to the event
 * kernel and the simulated network. `SimHost` drives any protocol node; the
 * gossip cluster, its metrics and the TCP dumbbell are built on it.
 */
export { SimHost, type NodeFactory, type NodeTraceEvent, type SimHostOptions } from './host.js';
export { Dumbbell, type BottleneckConfig, type DumbbellConfig, type FlowConfig, type ReturnPathConfig } from './dumbbell.js';
export { TcpFlows, type FlowSummary, type TcpFlowSpec, type TcpFlowsConfig, type TcpSegmentRecord } from './tcp-flows.js';
export { GossipMetrics, type DeliveryRecord, type GossipMetricsOptions, type UpdateRecord, type UpdateSummary } from './gossip-metrics.js';
