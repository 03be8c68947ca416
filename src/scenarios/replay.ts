/**
 * What a run records so that a replay (`desim run DIR/meta.json`) can tell
 * whether it reproduces the run, and the checks the replay makes.
 *
 * Besides the resolved scenario and its hash, a run's meta.json records:
 * - `inputs`: the sha256 of each file the run read besides its scenario file.
 *   That is a protocol module's file (`protocol.module.path`, when it is a
 *   path): the scenario file and its `extends:` bases are folded into the
 *   recorded scenario, and no other key names a file. A module named by
 *   package is not hashed, and neither are the files a module imports;
 * - the run options that shape its files: `columns` (`--columns safe`),
 *   `formats` (`--format`, when not `svg`) and `replication`.
 *
 * A replay applies those options (a flag given on the command line wins) and
 * compares: the recorded `scenario_hash` with the hash this desim gives the
 * recorded scenario, and each recorded sha256 with the file the replay reads.
 * A difference is returned as a message for the CLI to print as a warning:
 * the replay still runs, and its own meta.json records the hash and files as
 * they are now, so no folder claims to be what it is not.
 */
import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import { COLUMN_STYLES, type ColumnStyle } from '../io/csv-format.js';
import type { Issue, ProtocolDriver } from './driver.js';
import { importedSha256, moduleSpecifier } from './drivers/module.js';
import { formatIssue, ScenarioError } from './errors.js';
import { OUTPUT_MARKER } from './files.js';
import { parseScenarioText, readScenarioFile, scenarioHash, validateScenario, type Scenario } from './loader.js';
import { applyOverrides, type Override } from './overrides.js';
import { PLOT_FORMATS, type PlotFormat } from './plots/formats.js';

/** A file a run read besides its scenario file, as meta.json's `inputs` records it. */
export interface InputFile {
  /** The scenario key that names the file: `protocol.module.path`. */
  readonly key: string;
  /** The path as the scenario gives it (relative to the scenario file, or absolute). */
  readonly path: string;
  /** sha256 of the file's bytes when the run read it: 64 lowercase hex digits. */
  readonly sha256: string;
}

/** The scenario keys that name a file a run reads. */
const INPUT_KEYS = ['protocol.module.path'] as const;

/** The keys a run's meta.json has (runner.ts writes them). */
const RECORD_KEYS = [
  OUTPUT_MARKER,
  'desim_version',
  'node_version',
  'scenario_file',
  'scenario_hash',
  'seed',
  'replication',
  'inputs',
  'columns',
  'formats',
  'headline',
  'files',
  'scenario',
] as const;

/** How many hex digits of a sha256 messages show (as many as a scenario hash has). */
const SHOWN_DIGITS = 16;

/** The value at a dotted key of a (raw or resolved) scenario object, if it is a non-empty string. */
function stringAt(scenario: unknown, key: string): string | undefined {
  let v: unknown = scenario;
  for (const part of key.split('.')) v = v !== null && typeof v === 'object' && !Array.isArray(v) ? (v as Record<string, unknown>)[part] : undefined;
  return typeof v === 'string' && v !== '' ? v : undefined;
}

/** The file a key names (a path resolved against the scenario file's folder), or undefined for a package name. */
function fileOf(path: string, scenarioFile: string): string | undefined {
  return moduleSpecifier(path, dirname(resolve(scenarioFile))).file;
}

/** sha256 of a file's bytes (64 hex digits), or undefined when it cannot be read. */
function sha256Of(file: string): string | undefined {
  try {
    return createHash('sha256').update(readFileSync(file)).digest('hex');
  } catch {
    return undefined;
  }
}

/**
 * The files a scenario reads besides its scenario file, with their sha256: the
 * protocol module's file, when `protocol.module.path` is a path (relative to
 * `scenarioFile`) to a file that can be read; the sha256 of the bytes this
 * process imported from it, if it did (the code that runs), else of the file
 * now. What a run records in meta.json's `inputs` (see
 * {@link RunScenarioOptions.inputs}) and a sweep in each run's record.
 * @param scenario a scenario object, raw (overrides applied) or validated
 * @param scenarioFile the scenario file the paths are relative to
 */
export function inputFiles(scenario: unknown, scenarioFile: string): InputFile[] {
  const out: InputFile[] = [];
  for (const key of INPUT_KEYS) {
    const path = stringAt(scenario, key);
    const file = path === undefined ? undefined : fileOf(path, scenarioFile);
    // A module this process imported: the bytes it runs, whatever the file holds now.
    const sha256 = file === undefined ? undefined : (importedSha256(file) ?? sha256Of(file));
    if (path !== undefined && sha256 !== undefined) out.push({ key, path, sha256 });
  }
  return out;
}

/** What a run's meta.json records besides its scenario, as a replay reads it. */
export interface RunRecord {
  /** The run's `scenario_hash`. */
  readonly scenarioHash: string;
  /** The desim version that wrote the record, if it says. */
  readonly desimVersion?: string;
  /** The files the run read, with their sha256 (none for a record written before desim recorded them). */
  readonly inputs: readonly InputFile[];
  /** summary.csv's column style, when the run used `--columns safe`. */
  readonly columns?: ColumnStyle;
  /** The figure formats, when the run gave `--format` other than `svg`. */
  readonly formats?: readonly PlotFormat[];
  /** The run's replication number (summary.csv's `replication`). */
  readonly replication: number;
}

const isMapping = (v: unknown): v is Record<string, unknown> => v !== null && typeof v === 'object' && !Array.isArray(v);

/**
 * A record's `inputs` (a list of { key, path, sha256 }, as {@link inputFiles} makes them), read back
 * strictly: each entry that is not as desim writes it adds an issue to `issues` (paths `inputs[i].*`);
 * the well-formed entries are returned.
 */
export function parseInputs(raw: unknown, issues: Issue[]): InputFile[] {
  const inputs: InputFile[] = [];
  if (!Array.isArray(raw)) {
    issues.push({ path: 'inputs', message: `expected a list of { key, path, sha256 }, got ${JSON.stringify(raw)}` });
    return inputs;
  }
  raw.forEach((entry: unknown, i) => {
    const at = `inputs[${i}]`;
    if (!isMapping(entry)) return issues.push({ path: at, message: `expected { key, path, sha256 }, got ${JSON.stringify(entry)}` });
    const extra = Object.keys(entry).filter((k) => !['key', 'path', 'sha256'].includes(k));
    for (const k of extra) issues.push({ path: `${at}.${k}`, message: 'unknown key (expected key, path and sha256)' });
    const { key, path, sha256 } = entry;
    if (typeof key !== 'string' || !(INPUT_KEYS as readonly string[]).includes(key))
      issues.push({ path: `${at}.key`, message: `expected ${INPUT_KEYS.join(' or ')}, got ${JSON.stringify(key) ?? 'nothing'}` });
    if (typeof path !== 'string' || path === '')
      issues.push({ path: `${at}.path`, message: `expected the path the scenario gives, got ${JSON.stringify(path) ?? 'nothing'}` });
    if (typeof sha256 !== 'string' || !/^[0-9a-f]{64}$/.test(sha256))
      issues.push({ path: `${at}.sha256`, message: `expected 64 hex digits, got ${JSON.stringify(sha256) ?? 'nothing'}` });
    if (typeof key === 'string' && inputs.some((x) => x.key === key)) issues.push({ path: `${at}.key`, message: `${key} is recorded twice` });
    else if (typeof key === 'string' && typeof path === 'string' && typeof sha256 === 'string') inputs.push({ key, path, sha256 });
    return undefined;
  });
  return inputs;
}

/**
 * The record of a run's meta.json (a document with desim's marker
 * `desim_output: run`), or undefined for any other file (a scenario file).
 * Throws {@link ScenarioError} naming each field that is not as desim writes it.
 */
export function readRunRecord(file: string): RunRecord | undefined {
  let doc: unknown;
  try {
    doc = parseScenarioText(readFileSync(file, 'utf8'), file);
  } catch {
    // Not readable or not a mapping: not a run's record (loading the file reports why).
    return undefined;
  }
  if (!isMapping(doc) || doc[OUTPUT_MARKER] !== 'run') return undefined;
  const issues: Issue[] = [];
  // Its keys act on a replay (or describe the run): one desim does not write is refused, not ignored.
  for (const k of Object.keys(doc)) {
    if (!(RECORD_KEYS as readonly string[]).includes(k))
      issues.push({ path: k, message: `unknown key: a run's meta.json has ${RECORD_KEYS.join(', ')}` });
  }
  const seed = doc['seed'];
  const scenarioSeed = isMapping(doc['scenario']) ? doc['scenario']['seed'] : undefined;
  if (seed !== undefined && scenarioSeed !== undefined && seed !== scenarioSeed)
    issues.push({
      path: 'seed',
      message: `is ${JSON.stringify(seed)} but scenario.seed is ${JSON.stringify(scenarioSeed)}: the replay would run scenario.seed; make them agree, or give --seed`,
    });
  const hash = doc['scenario_hash'];
  if (typeof hash !== 'string' || !/^[0-9a-f]{16}$/.test(hash))
    issues.push({
      path: 'scenario_hash',
      message: `expected the scenario hash desim records (16 hex digits), got ${JSON.stringify(hash) ?? 'nothing'}`,
    });
  const version = doc['desim_version'];
  const inputs = parseInputs(doc['inputs'] ?? [], issues);
  const columns = doc['columns'];
  if (columns !== undefined && !(COLUMN_STYLES as readonly unknown[]).includes(columns))
    issues.push({ path: 'columns', message: `expected ${COLUMN_STYLES.join(' or ')}, got ${JSON.stringify(columns)}` });
  const formats = doc['formats'];
  const formatsOk =
    Array.isArray(formats) &&
    formats.length > 0 &&
    formats.every((f, i) => (PLOT_FORMATS as readonly unknown[]).includes(f) && formats.indexOf(f) === i);
  if (formats !== undefined && !formatsOk)
    issues.push({ path: 'formats', message: `expected a list of ${PLOT_FORMATS.join(', ')}, each at most once, got ${JSON.stringify(formats)}` });
  const replication = doc['replication'] ?? 0;
  if (typeof replication !== 'number' || !Number.isInteger(replication) || replication < 0)
    issues.push({ path: 'replication', message: `expected an integer >= 0, got ${JSON.stringify(replication)}` });
  if (issues.length > 0) throw new ScenarioError(file, issues);
  return {
    scenarioHash: hash as string,
    ...(typeof version === 'string' ? { desimVersion: version } : {}),
    inputs,
    ...(columns !== undefined ? { columns: columns as ColumnStyle } : {}),
    ...(formats !== undefined ? { formats: formats as PlotFormat[] } : {}),
    replication: replication as number,
  };
}

/** `0123456789abcdef` of a sha256, for messages. */
export const shortSha256 = (sha256: string): string => sha256.slice(0, SHOWN_DIGITS);

/**
 * How the files a replay of `file` (a run's meta.json) would read differ from
 * those the run read: one message per recorded file that changed, is missing
 * or is no longer read, and per file the replay reads that the record has no
 * sha256 for (a file that cannot be read is left to the loader, which
 * refuses it). Reads the files only (imports nothing), so it can be called
 * before the module is loaded.
 * @param overrides the replay's `--set` overrides (they may name another module file)
 */
export function inputChanges(file: string, record: RunRecord, overrides: readonly Override[] = []): string[] {
  const raw = readScenarioFile(file);
  const applied = applyOverrides(raw, overrides);
  const scenario = applied.ok ? applied.value : raw;
  const messages: string[] = [];
  for (const key of INPUT_KEYS) {
    const recorded = record.inputs.find((i) => i.key === key);
    const path = stringAt(scenario, key);
    const now = path === undefined ? undefined : fileOf(path, file);
    if (recorded === undefined) {
      if (now !== undefined)
        messages.push(
          `${file}: has no sha256 of ${key} in its inputs (written before desim recorded them, or without them): the replay cannot tell whether ${now} holds what the run read`,
        );
      continue;
    }
    const then = `the run read ${recorded.path} with sha256 ${shortSha256(recorded.sha256)}`;
    if (now === undefined) {
      messages.push(`${file}: ${key}: ${then}; the replay reads ${path === undefined ? 'no file for it' : `package ${path}, which has no sha256`}`);
      continue;
    }
    const sha256 = sha256Of(now);
    // A file that cannot be read is refused when the scenario loads (exit 2), which names it.
    if (sha256 !== undefined && sha256 !== recorded.sha256)
      messages.push(`${file}: ${key}: ${then}; ${now} has sha256 ${shortSha256(sha256)} now: the replay runs the file as it is now`);
  }
  return messages;
}

/**
 * A message when this desim gives the scenario a run's meta.json records
 * another hash than its `scenario_hash` (defaults or the schema changed since
 * the run), else undefined. The recorded scenario is judged as it stands,
 * before the replay's own `--set` and `--seed`.
 * @param loaded the replay's scenario when it has no overrides and no other seed (saves validating it again)
 */
export function scenarioHashChange(file: string, record: RunRecord, drivers: readonly ProtocolDriver[], loaded?: Scenario): string | undefined {
  let hash: string;
  try {
    hash = scenarioHash(loaded ?? validateScenario(readScenarioFile(file), drivers, file));
  } catch (err) {
    if (!(err instanceof ScenarioError)) throw err;
    return `${file}: the scenario it records (scenario_hash ${record.scenarioHash}) no longer validates as it stands: ${err.issues.map(formatIssue).join('; ')}`;
  }
  if (hash === record.scenarioHash) return undefined;
  const by = record.desimVersion !== undefined ? `desim ${record.desimVersion}` : 'the desim that ran it';
  return `${file}: scenario_hash ${record.scenarioHash} recorded by ${by}, but this desim resolves the scenario it records to ${hash} (desim's defaults or schema changed since, or the record was edited): the replay may not reproduce the run`;
}
