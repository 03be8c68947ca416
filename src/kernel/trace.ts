/**
 * Trace sources (after ns-3's TracedCallback): a model owns typed sources and
 * emits records into them; files, in-memory collectors and tests are just
 * consumers. A source with no consumer costs one boolean check, so models
 * guard record construction with `if (source.active)`.
 */

/** A consumer of trace records. */
export type TraceSink<T> = (record: T) => void;

/** A typed stream of trace records. */
export class TraceSource<T> {
  private sinks: TraceSink<T>[] = [];
  /** True when at least one consumer is connected; check it before building a record. */
  active = false;

  /** @param name the source's name, e.g. `net.packet` or `tcp.cwnd`. */
  constructor(readonly name: string) {}

  /** Connects a consumer; returns a function that disconnects it. */
  connect(sink: TraceSink<T>): () => void {
    this.sinks = [...this.sinks, sink];
    this.active = true;
    return () => {
      this.sinks = this.sinks.filter((s) => s !== sink);
      this.active = this.sinks.length > 0;
    };
  }

  /** Delivers a record to every consumer, in connection order. */
  emit(record: T): void {
    const sinks = this.sinks;
    for (let i = 0; i < sinks.length; i++) (sinks[i] as TraceSink<T>)(record);
  }
}

/** Collects every record of a source into an array (handy in tests). */
export function collect<T>(source: TraceSource<T>): T[] {
  const out: T[] = [];
  source.connect((r) => out.push(r));
  return out;
}
