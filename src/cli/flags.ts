/**
 * Flag values checked in one place for every command, before any handler runs.
 *
 * Theory of operation. yargs alone reads a number flag with `Number()`: an
 * empty value (`--seed ""`, `--seed=`) becomes 0, `--seed abc` becomes NaN, and
 * a flag given twice becomes an array that a handler then mistakes for one
 * value. So a number flag is declared with {@link numberFlag}: the parser keeps
 * its text (`string: true`), a value is required (`requiresArg`: a missing one
 * is yargs's "Not enough arguments following"), and help still shows
 * `[number]`. {@link checkFlagValues}, a global middleware, then turns that text
 * into a number or refuses it naming the flag and quoting what was given,
 * refuses an empty value for any flag that requires a value (`requiresArg`: an
 * empty value is no better than a missing one), and refuses a flag given more
 * than once unless it is declared as an array (`--set`,
 * `--vary`, `bench --pending`). A number flag declared without
 * {@link numberFlag} would be read by `Number()` again: the middleware stops
 * the command with an internal error instead, so none can slip through.
 *
 * A boolean flag given twice, or with its negation (`--quiet --quiet`,
 * `--quiet --no-quiet`, `--quiet=false --quiet`), is refused the same way. yargs
 * keeps only the last of them and shows no repetition, so the middleware counts
 * them in the command line itself: every `--x`, `--no-x`, `--x=v` and `--no-x=v`
 * (or their camelCase spellings, which yargs also takes) before a `--`.
 */

/** Thrown for bad arguments: the CLI prints the message without a stack and exits 2. */
export class UsageError extends Error {
  override readonly name = 'UsageError';
}

/**
 * The yargs options of a number flag: its text is kept for {@link checkFlagValues}
 * (so an empty value is not 0), a value is required, and help shows `[number]`.
 */
export function numberFlag<const O extends { readonly describe: string }>(o: O) {
  return { ...o, type: 'number', string: true, requiresArg: true } as const;
}

/** What `checkFlagValues` reads of yargs's option table (`yargs.getOptions()`). */
export interface FlagTable {
  readonly key: Readonly<Record<string, unknown>>;
  readonly number: readonly string[];
  readonly string: readonly string[];
  readonly array: readonly string[];
  readonly boolean: readonly string[];
  /** Flags with `requiresArg` (or `nargs`). */
  readonly narg: Readonly<Record<string, number>>;
}

/** A decimal number as people type it: `7`, `-0.5`, `.25`, `1e-3` (no hex, no `Infinity`, no blanks). */
const NUMBER_TEXT = /^[+-]?(?:\d+(?:\.\d*)?|\.\d+)(?:[eE][+-]?\d+)?$/;

/** The number a flag's text gives, or a {@link UsageError} that names the flag and quotes the text. */
export function parseNumberFlag(flag: string, value: unknown): number {
  // A number here is the flag's declared default, never the user's text (the parser keeps that as a string).
  if (typeof value === 'number') return value;
  if (typeof value !== 'string') throw new UsageError(`--${flag}: expected a number, got ${JSON.stringify(value)}`);
  if (value === '') throw new UsageError(`--${flag}: expected a number, got an empty value`);
  const n = NUMBER_TEXT.test(value) ? Number(value) : NaN;
  if (!Number.isFinite(n)) throw new UsageError(`--${flag}: expected a number, got ${JSON.stringify(value)}`);
  return n;
}

const camelCase = (key: string): string => key.replace(/-+([a-z0-9])/g, (_, c: string) => c.toUpperCase());

const times = (n: number): string => (n === 2 ? 'twice' : `${n} times`);

/** yargs's own flags, which act before any middleware. */
const BUILTIN_FLAGS = new Set(['help', 'version']);

/**
 * How often each of the boolean flags `booleans` appears in `args`, the command
 * line, as yargs reads it: `--x`, `--no-x`, `--x=v`, `--no-x=v`, also in
 * camelCase (`--loadModules`); nothing after `--`.
 */
function booleanCounts(args: readonly string[], booleans: readonly string[]): Map<string, number> {
  const byName = new Map(booleans.filter((k) => !BUILTIN_FLAGS.has(k)).map((k) => [camelCase(k), k]));
  const counts = new Map<string, number>();
  for (const arg of args) {
    if (arg === '--') break;
    const name = /^--([^=]+)/.exec(arg)?.[1];
    if (name === undefined) continue;
    const key = byName.get(camelCase(name)) ?? (name.startsWith('no-') ? byName.get(camelCase(name.slice(3))) : undefined);
    if (key !== undefined) counts.set(key, (counts.get(key) ?? 0) + 1);
  }
  return counts;
}

/**
 * Checks and converts the parsed flags in place (see the module comment).
 * Registered with `yargs.middleware(..., true)`: yargs passes its instance as
 * the second argument, whose `getOptions()` is the current command's table;
 * `args` is the command line (without node and the script), where a boolean
 * flag's repetitions are counted.
 */
export function checkFlagValues(argv: Record<string, unknown>, y: { getOptions(): FlagTable }, args: readonly string[]): void {
  const o = y.getOptions();
  for (const [key, n] of booleanCounts(args, o.boolean)) if (n > 1) throw new UsageError(`--${key} given ${times(n)}; give it once`);
  const arrays = new Set(o.array);
  const strings = new Set(o.string);
  const numbers = new Set(o.number);
  const set = (key: string, value: unknown): void => {
    argv[key] = value;
    if (camelCase(key) in argv) argv[camelCase(key)] = value;
  };
  for (const key of Object.keys(o.key)) {
    const v = argv[key];
    if (v === undefined) continue;
    if (Array.isArray(v) && !arrays.has(key)) throw new UsageError(`--${key} given ${times(v.length)}; give it once`);
    const empty = v === '' || (Array.isArray(v) && v.includes(''));
    if (empty && key in o.narg && !numbers.has(key)) throw new UsageError(`--${key}: expected a value, got an empty one`);
  }
  for (const key of o.number) {
    if (!strings.has(key) || !(key in o.narg)) throw new Error(`internal: the number flag --${key} must be declared with numberFlag()`);
    const v = argv[key];
    if (v === undefined) continue;
    set(key, Array.isArray(v) ? v.map((x) => parseNumberFlag(key, x)) : parseNumberFlag(key, v));
  }
}

/**
 * yargs's message in desim's words: a flag given without its value names the
 * flag (`--seed: expected a value after it`); an unknown argument, when `args`
 * (the command line) holds a `path=value` that is not a flag's, gets a hint,
 * since `--set` and `--vary` take one value each. Other messages are unchanged.
 */
export function usageMessage(msg: string, args: readonly string[] = []): string {
  const m = /^Not enough arguments following: (.+)$/.exec(msg);
  if (m !== null) return `--${m[1]}: expected a value after it`;
  const loose = args.some((a, i) => /^[A-Za-z_][\w.[\]-]*=/.test(a) && !(args[i - 1] ?? '').startsWith('-'));
  if (/^Unknown arguments?: /.test(msg) && loose) return `${msg} (--set and --vary take one path=value each: repeat the flag for more)`;
  return msg;
}
