/**
 * Real UDP nodes: the generic UDP driver for sans-I/O nodes, the gossip node
 * on it, its client, state files, local clusters and the CLI command modules.
 * (Node-only: sockets, processes and files; kept out of the simulator's path.)
 */
export { AddressError, buildMembership, formatAddress, parseAddress, parseAddressList, type Membership, type UdpAddress } from './address.js';
export { KeyFileError, Keyring, SEALED_OVERHEAD, framePlain, isEnvelope, isSealed, keyId, openPlain } from './envelope.js';
export {
  MAX_DATAGRAM_BYTES,
  REPLAY_WINDOW_MS,
  UdpHost,
  monotonicClockNs,
  type ClientService,
  type Codec,
  type DropReason as UdpDropReason,
  type HostCounters,
  type HostLogEvent,
  type UdpHostOptions,
} from './udp-host.js';
export {
  classifyGossipError,
  gossipClientService,
  gossipCodec,
  gossipConfigFromCli,
  isSwimPacket,
  nodeCodec,
  MEMBER_ROWS_PER_REPLY,
  startGossipNode,
  wallClockEpochUs,
  TIMESTAMP_UNIT_NS,
  type GossipCliOptions,
  type GossipUdpOptions,
  type KvService,
  type NodeMessage,
  type RunningGossipNode,
} from './gossip-udp.js';
export { KvClient, KvRemoteError, KvRequestError, KvTimeoutError, type KvClientOptions } from './kv-client.js';
export {
  DataLockedError,
  DurableStore,
  PersistError,
  STATE_FORMAT,
  STATE_VERSION,
  acquireLock,
  decodeStateFile,
  encodeStateFile,
  loadState,
  saveState,
  type DurableStoreOptions,
  type Recovered,
} from './persist.js';
export { WriteAheadLog, crc32, decodeWal, encodeWalRecord, readWal, type IoFault, type WalContents, type WalRecord } from './wal.js';
export { AckTracker } from './replication.js';
export { clusterPlan, nodeName, startCluster, type Cluster, type ClusterMember, type ClusterOptions } from './cluster.js';
export {
  AddressBook,
  DEFAULT_MAX_MEMBERS,
  MAX_MAX_MEMBERS,
  SwimDriver,
  detectionBoundNs,
  type SwimDriverCounters,
  type SwimDriverOptions,
  type SwimStorePacket,
} from './swim-udp.js';
export {
  SwimWireError,
  decodeSwim,
  decodeUpdates,
  encodeSwim,
  encodeUpdates,
  isSwimPayload,
  swimEncodedSize,
  type MemberRow,
  type MemberStateName,
  type SwimPacket,
  type SwimWireMessage,
  type WireUpdate,
} from './swim-wire.js';
