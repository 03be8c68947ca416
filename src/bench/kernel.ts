/**
 * The hold model (Vaucher & Duval 1975), the classic event-set benchmark:
 * `pending` events are kept in the queue; each fired event schedules one more
 * at now + Exp(mean 1 s), rounded to the nanosecond, drawn from a seeded stream.
 *
 * {@link benchBareHeap} runs the same model without the kernel: a binary heap
 * of (time, seq) keys in two typed arrays and the stream's generator inlined
 * into the loop. It draws the same numbers and fires the same events in the
 * same order as {@link benchKernel} (both report the final simulated time), so
 * the ratio of the two rates is the kernel's own overhead: handlers, event
 * handles, cancellation, the generator behind a method call.
 */
import seedrandom from 'seedrandom';
import { Simulator } from '../kernel/simulator.js';
import { NS_PER_S } from '../kernel/time.js';

export interface KernelBenchResult {
  /** Events fired in the measured run (warm-up excluded). */
  readonly events: number;
  /** Events pending at the end (the hold population). */
  readonly pending: number;
  /** Wall time of the measured run (s). */
  readonly wallS: number;
  /** CPU time (user + system) of the measured run (s). */
  readonly cpuS: number;
  /** Events per wall second. */
  readonly eventsPerS: number;
  /** Events per CPU second: steadier than {@link eventsPerS} on a shared machine. */
  readonly eventsPerCpuS: number;
  readonly peakRssMb: number;
  /** Simulated time at the end (ns): equal for the kernel and the bare heap on the same arguments. */
  readonly finalTimeNs: number;
}

/** Pending populations `desim bench kernel --pending` accepts. */
export const MIN_PENDING = 1;
export const MAX_PENDING = 10_000_000;

/** Events fired by default: 2,000,000, or twice the population when that is larger (so every event is replaced twice on average). */
export function defaultHoldEvents(pending: number): number {
  return Math.max(2_000_000, 2 * pending);
}

function peakRssMb(): number {
  return Math.max(process.memoryUsage.rss(), process.resourceUsage().maxRSS * 1024) / 2 ** 20;
}

/** The stream the hold model draws from, as {@link Simulator}'s `rng.stream('hold')` would seed it. */
function holdSeed(seed: number | string): string {
  return `${String(seed)}\u0000hold`;
}

/** A hold model ready to fire events: `run(n)` fires n more and returns the wall time it took (ns). */
interface HoldRun {
  run(events: number): Took;
  readonly fired: number;
  readonly pending: number;
  readonly nowNs: number;
}

/** Wall and CPU time (user + system, ns) of one call. */
interface Took {
  readonly wallNs: number;
  readonly cpuNs: number;
}

function timed(f: () => void): Took {
  const c0 = process.cpuUsage();
  const t0 = process.hrtime.bigint();
  f();
  const wall = Number(process.hrtime.bigint() - t0);
  const c = process.cpuUsage(c0);
  return { wallNs: wall, cpuNs: (c.user + c.system) * 1000 };
}

/** Adds a slice's times to a running sum. */
function add(sum: { wallNs: number; cpuNs: number }, t: Took): void {
  sum.wallNs += t.wallNs;
  sum.cpuNs += t.cpuNs;
}

/** The hold model on the kernel, its `pending` events scheduled. */
function kernelHold(pending: number, seed: number | string): HoldRun {
  const sim = new Simulator({ seed, initialCapacity: pending + 1 });
  const rng = sim.rng.stream('hold');
  const hold = (): void => {
    sim.schedule(sim.now + Math.round(rng.exponential(NS_PER_S)), hold, undefined);
  };
  for (let i = 0; i < pending; i++) sim.schedule(Math.round(rng.exponential(NS_PER_S)), hold, undefined);
  return {
    run: (n) => timed(() => sim.run({ maxEvents: n })),
    get fired() {
      return sim.fired;
    },
    get pending() {
      return sim.pending;
    },
    get nowNs() {
      return sim.now;
    },
  };
}

/**
 * The same hold model on a bare binary heap: keys (time, seq) in two
 * Float64Arrays, no handlers, no event handles, seedrandom's tychei generator
 * inlined (same seed string, so the same draws as the kernel's stream).
 */
function bareHold(pending: number, seed: number | string): HoldRun {
  const st = (seedrandom.tychei(holdSeed(seed), { state: true }) as unknown as { state(): { a: number; b: number; c: number; d: number } }).state();
  let a = st.a | 0;
  let b = st.b | 0;
  let c = st.c | 0;
  let d = st.d | 0;
  const cap = pending + 1;
  const hTime = new Float64Array(cap);
  const hSeq = new Float64Array(cap);
  let size = 0;
  let seq = 0;
  let now = 0;
  let fired = 0;

  // One Exp(1 s) draw, rounded: tychei's double() (53 bits from two outputs,
  // redrawn on 0) inlined, then -mean * log(1 - u) as Random.exponential does.
  const draw = (): number => {
    let u: number;
    do {
      b = (b << 25) ^ (b >>> 7) ^ c;
      c = (c - d) | 0;
      d = (d << 24) ^ (d >>> 8) ^ a;
      a = (a - b) | 0;
      b = (b << 20) ^ (b >>> 12) ^ c;
      c = (c - d) | 0;
      d = (d << 16) ^ (c >>> 16) ^ a;
      a = (a - b) | 0;
      const top = a >>> 11;
      b = (b << 25) ^ (b >>> 7) ^ c;
      c = (c - d) | 0;
      d = (d << 24) ^ (d >>> 8) ^ a;
      a = (a - b) | 0;
      b = (b << 20) ^ (b >>> 12) ^ c;
      c = (c - d) | 0;
      d = (d << 16) ^ (c >>> 16) ^ a;
      a = (a - b) | 0;
      u = (top + (a >>> 0) / 0x100000000) / (1 << 21);
    } while (u === 0);
    return Math.round(-NS_PER_S * Math.log(1 - u));
  };

  const push = (t: number): void => {
    const s = seq++;
    let pos = size++;
    while (pos > 0) {
      const parent = (pos - 1) >> 1;
      const pt = hTime[parent] as number;
      if (pt < t || (pt === t && (hSeq[parent] as number) < s)) break;
      hTime[pos] = pt;
      hSeq[pos] = hSeq[parent] as number;
      pos = parent;
    }
    hTime[pos] = t;
    hSeq[pos] = s;
  };

  const loop = (events: number): void => {
    for (let k = 0; k < events && size > 0; k++) {
      now = hTime[0] as number;
      // Pop: move the last entry into the root's hole and sift it down.
      const n = --size;
      const t = hTime[n] as number;
      const s = hSeq[n] as number;
      let pos = 0;
      const half = n >> 1;
      while (pos < half) {
        let child = 2 * pos + 1;
        let ct = hTime[child] as number;
        let cs = hSeq[child] as number;
        const right = child + 1;
        if (right < n) {
          const rt = hTime[right] as number;
          const rs = hSeq[right] as number;
          if (rt < ct || (rt === ct && rs < cs)) {
            child = right;
            ct = rt;
            cs = rs;
          }
        }
        if (t < ct || (t === ct && s < cs)) break;
        hTime[pos] = ct;
        hSeq[pos] = cs;
        pos = child;
      }
      hTime[pos] = t;
      hSeq[pos] = s;
      fired++;
      push(now + draw());
    }
  };

  for (let i = 0; i < pending; i++) push(draw());
  return {
    run: (n) => timed(() => loop(n)),
    get fired() {
      return fired;
    },
    get pending() {
      return size;
    },
    get nowNs() {
      return now;
    },
  };
}

function result(h: HoldRun, events: number, wallNs: number, cpuNs: number): KernelBenchResult {
  return {
    events,
    pending: h.pending,
    wallS: wallNs / 1e9,
    cpuS: cpuNs / 1e9,
    eventsPerS: events / (wallNs / 1e9),
    eventsPerCpuS: events / (cpuNs / 1e9),
    peakRssMb: peakRssMb(),
    finalTimeNs: h.nowNs,
  };
}

/** Runs the hold model on the kernel and measures the run (the only place desim reads a wall clock is `bench`). */
export function benchKernel(events = 2_000_000, pending = 10_000, seed: number | string = 1): KernelBenchResult {
  const h = kernelHold(pending, seed);
  const took = h.run(events);
  return result(h, events, took.wallNs, took.cpuNs);
}

/** Runs the hold model on the bare heap (see the file's header). */
export function benchBareHeap(events = 2_000_000, pending = 10_000, seed: number | string = 1): KernelBenchResult {
  const h = bareHold(pending, seed);
  const took = h.run(events);
  return result(h, events, took.wallNs, took.cpuNs);
}

/**
 * The kernel's hold model at several populations side by side in one process, so that the rates
 * compare like {@link benchKernelVsBare}'s: all the models are built and warmed up (each fires
 * `eventsOf(p) / slices` unmeasured events), then each fires its `eventsOf(p)` measured events in
 * `slices` slices, the populations taking turns (which goes first rotates every slice). A slice is
 * preceded by an unmeasured tenth of its events, which brings the model's own records back into the
 * cache after the others' slices, as they are when it runs alone. On this shared machine the speed
 * drifts by a fifth or more within minutes, so rates measured one after the other (as separate
 * runs are) do not compare; rates measured in alternating slices do. All the models are in memory at
 * once: each result's `peakRssMb` is the process's.
 */
export function benchKernelPopulations(
  pendings: readonly number[],
  eventsOf: (pending: number) => number = defaultHoldEvents,
  seed: number | string = 1,
  slices = 20,
): KernelBenchResult[] {
  const hs = pendings.map((p) => kernelHold(p, seed));
  const sums = pendings.map(() => ({ wallNs: 0, cpuNs: 0 }));
  const done = pendings.map(() => 0);
  pendings.forEach((p, i) => (hs[i] as HoldRun).run(Math.ceil(eventsOf(p) / slices)));
  for (let s = 0; s < slices; s++) {
    for (let j = 0; j < hs.length; j++) {
      const i = (s + j) % hs.length;
      const h = hs[i] as HoldRun;
      const total = eventsOf(pendings[i] as number);
      const n = Math.floor((total * (s + 1)) / slices) - (done[i] as number);
      done[i] = (done[i] as number) + n;
      h.run(Math.ceil(n / 10));
      add(sums[i] as { wallNs: number; cpuNs: number }, h.run(n));
    }
  }
  return hs.map((h, i) => {
    const sum = sums[i] as { wallNs: number; cpuNs: number };
    return result(h, eventsOf(pendings[i] as number), sum.wallNs, sum.cpuNs);
  });
}

/** Both runs of {@link benchKernelVsBare}, and the kernel's rate as a fraction of the bare heap's. */
export interface KernelVsBareResult {
  readonly kernel: KernelBenchResult;
  readonly bare: KernelBenchResult;
  /** Kernel events per CPU second ÷ bare heap events per CPU second, over the interleaved slices. */
  readonly ratio: number;
}

/**
 * The kernel and the bare heap side by side in one process: both models are
 * built and warmed up (each fires `events / slices` unmeasured events, so the
 * JIT has compiled both loops), then fire `events` in `slices` alternating
 * slices (kernel, bare, bare, kernel, ...), so a change in the machine's load
 * hits both alike. The ratio uses CPU time, which a busy machine inflates less
 * than wall time.
 */
export function benchKernelVsBare(events = 2_000_000, pending = 10_000, seed: number | string = 1, slices = 20): KernelVsBareResult {
  const k = kernelHold(pending, seed);
  const b = bareHold(pending, seed);
  const kSum = { wallNs: 0, cpuNs: 0 };
  const bSum = { wallNs: 0, cpuNs: 0 };
  const warm = Math.ceil(events / slices);
  k.run(warm);
  b.run(warm);
  let done = 0;
  for (let i = 0; i < slices; i++) {
    const n = Math.floor((events * (i + 1)) / slices) - done;
    done += n;
    // Alternate which goes first, so neither always runs on a warmer cache.
    if (i % 2 === 0) {
      add(kSum, k.run(n));
      add(bSum, b.run(n));
    } else {
      add(bSum, b.run(n));
      add(kSum, k.run(n));
    }
  }
  const kernel = result(k, events, kSum.wallNs, kSum.cpuNs);
  const bare = result(b, events, bSum.wallNs, bSum.cpuNs);
  return { kernel, bare, ratio: kernel.eventsPerCpuS / bare.eventsPerCpuS };
}
