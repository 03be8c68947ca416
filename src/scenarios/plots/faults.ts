/**
 * Fault episodes for time plots: taken from the scenario recorded with the run
 * (`meta.json` → `scenario.faults`), drawn as shaded, labelled bands under the
 * data of every plot whose x axis is time.
 *
 * An episode runs from its verb to the verb that ends it, or to the end of the
 * run: `partition` → the `repair` of its name (or `all`), `hold` → the
 * `release` of its name (or `all`), `crash X` → `restart X`. `set_loss` and
 * `set_latency_ms` last until the next change of the same verb on the same
 * links; a change back to the base link's value ends an episode and starts none.
 */

/** One shaded band: [startS, endS] in seconds of simulated time. */
export interface FaultEpisode {
  readonly startS: number;
  readonly endS: number;
  /** Shown at the top of the band, e.g. `Partition halves`, `Crash n4`, `Loss 30%`. */
  readonly label: string;
}

type FaultEntry = Record<string, unknown> & { at_s?: unknown };

/** The fault episodes of a run's resolved scenario (`meta.json` → `scenario`), in order of start; none without one. */
export function scenarioFaultEpisodes(scenario: Readonly<Record<string, unknown>> | undefined): FaultEpisode[] {
  if (scenario === undefined || !Array.isArray(scenario['faults'])) return [];
  const durationS = typeof scenario['duration_s'] === 'number' ? scenario['duration_s'] : Number.NaN;
  const link = ((scenario['network'] as Record<string, unknown> | undefined)?.['link'] ?? {}) as Record<string, unknown>;
  return faultEpisodes(scenario['faults'] as FaultEntry[], durationS, { loss: link['loss'], latency_ms: link['latency_ms'] });
}

const same = (a: unknown, b: unknown): boolean => JSON.stringify(a ?? null) === JSON.stringify(b ?? null);

function describeValue(verb: 'set_loss' | 'set_latency_ms', value: unknown): string {
  if (verb === 'set_loss') {
    if (typeof value === 'number') return `Loss ${+(value * 100).toPrecision(3)}%`;
    return 'Loss bursts';
  }
  if (typeof value === 'number') return `Latency ${+value.toPrecision(4)} ms`;
  const dist = (value as { dist?: unknown } | null)?.dist;
  return typeof dist === 'string' ? `Latency ${dist}` : 'Latency change';
}

function betweenText(f: FaultEntry): string {
  const between = f['between'];
  return Array.isArray(between) && between.length > 0 ? ` ${between.map(String).join(f['one_way'] === true ? '→' : '–')}` : '';
}

/**
 * Episodes from a list of fault entries (as in a scenario file, defaults
 * filled in), ordered by start time, then by entry order.
 * @param durationS the run's length: open episodes end there
 * @param base the base link's `loss` and `latency_ms`, so a change back to them ends an episode
 */
export function faultEpisodes(faults: readonly FaultEntry[], durationS: number, base: { loss?: unknown; latency_ms?: unknown } = {}): FaultEpisode[] {
  const end = Number.isFinite(durationS) ? durationS : Math.max(0, ...faults.map((f) => Number(f.at_s) || 0));
  const episodes: { startS: number; endS: number; label: string; order: number }[] = [];
  const open: { kind: string; key: string; startS: number; label: string; order: number }[] = [];
  const close = (pred: (o: (typeof open)[number]) => boolean, at: number): void => {
    for (let i = open.length - 1; i >= 0; i--) {
      const o = open[i];
      if (o === undefined || !pred(o)) continue;
      episodes.push({ startS: o.startS, endS: at, label: o.label, order: o.order });
      open.splice(i, 1);
    }
  };
  faults.forEach((f, order) => {
    const at = Number(f.at_s);
    if (!Number.isFinite(at)) return;
    const name = typeof f['name'] === 'string' ? f['name'] : '';
    if (f['partition'] !== undefined)
      open.push({ kind: 'partition', key: name, startS: at, label: name === '' ? 'Partition' : `Partition ${name}`, order });
    else if (f['hold'] !== undefined) open.push({ kind: 'hold', key: name, startS: at, label: name === '' ? 'Hold' : `Hold ${name}`, order });
    else if (f['repair'] !== undefined) close((o) => o.kind === 'partition' && (f['repair'] === 'all' || o.key === f['repair']), at);
    else if (f['release'] !== undefined) close((o) => o.kind === 'hold' && (f['release'] === 'all' || o.key === f['release']), at);
    else if (typeof f['crash'] === 'string') open.push({ kind: 'crash', key: f['crash'], startS: at, label: `Crash ${f['crash']}`, order });
    else if (typeof f['restart'] === 'string') close((o) => o.kind === 'crash' && o.key === f['restart'], at);
    else {
      for (const verb of ['set_loss', 'set_latency_ms'] as const) {
        if (f[verb] === undefined) continue;
        const key = JSON.stringify([f['between'] ?? null, f['one_way'] ?? false]);
        close((o) => o.kind === verb && o.key === key, at);
        const backToBase = f['between'] === undefined && same(f[verb], verb === 'set_loss' ? base.loss : base.latency_ms);
        if (!backToBase) open.push({ kind: verb, key, startS: at, label: `${describeValue(verb, f[verb])}${betweenText(f)}`, order });
      }
    }
  });
  close(() => true, end);
  return episodes
    .filter((e) => e.endS >= e.startS)
    .sort((a, b) => a.startS - b.startS || a.order - b.order)
    .map(({ startS, endS, label }) => ({ startS, endS, label }));
}

/** Pixels between label rows at the top of the plot. */
const LABEL_ROW_PX = 14;

/**
 * Rows for the `faults` dataset: each episode with its x range in the plot's
 * time unit (`scale` converts seconds, e.g. to RTTs) and a label row, so that
 * labels of episodes that start close together do not overlap.
 * @param pxPerUnit plot width in pixels over the x range, to space labels
 */
export function faultRows(
  episodes: readonly FaultEpisode[],
  scale: (seconds: number) => number,
  pxPerUnit: number,
): { x: number; x2: number; label: string; labelY: number }[] {
  const rowEnds: number[] = []; // right edge (px) of the last label in each row
  return episodes.map((e) => {
    const x = scale(e.startS);
    const x2 = scale(e.endS);
    const left = x * pxPerUnit;
    const width = e.label.length * 6.2 + 8; // about 11 px Helvetica
    let row = rowEnds.findIndex((r) => r <= left);
    if (row < 0) row = rowEnds.length;
    rowEnds[row] = left + width;
    return { x, x2, label: e.label, labelY: 3 + row * LABEL_ROW_PX };
  });
}

/**
 * The Vega-Lite layers that draw fault bands from the dataset `faults` (rows
 * of {@link faultRows}): a light band from x to x2 over the whole height and
 * the label at its top left. Put them first so the data is drawn on top.
 * @param x the x encoding of the plot (the layers share its scale)
 */
export function faultLayers(x: Record<string, unknown>): unknown[] {
  return [
    {
      data: { name: 'faults' },
      mark: { type: 'rect', color: '#9e9e9e', opacity: 0.16 },
      encoding: { x, x2: { field: 'x2' } },
    },
    // The label twice: a white outline first, so it stays readable over the lines it crosses.
    ...[{ stroke: 'white', strokeWidth: 3, strokeOpacity: 0.9 }, {}].map((outline) => ({
      data: { name: 'faults' },
      mark: { type: 'text', align: 'left', baseline: 'top', dx: 3, fontSize: 11, color: '#333', ...outline },
      encoding: { x, y: { field: 'labelY', type: 'quantitative', scale: null }, text: { field: 'label', type: 'nominal' } },
    })),
  ];
}
