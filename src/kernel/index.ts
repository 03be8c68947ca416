export * from './time.js';
export * from './errors.js';
export * from './random.js';
export * from './simulator.js';
export * from './trace.js';
