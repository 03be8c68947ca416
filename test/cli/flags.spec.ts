import { describe, expect, it } from 'vitest';
import { checkFlagValues, type FlagTable, UsageError } from '../../src/cli/flags.js';

/** The option table yargs would give for `run --quiet --load-modules --out`. */
const table: FlagTable = {
  key: { quiet: true, 'load-modules': true, out: true, help: true },
  number: [],
  string: ['out'],
  array: [],
  boolean: ['quiet', 'load-modules', 'help'],
  narg: {},
};
const y = { getOptions: () => table };
const check = (args: string[]) => () => checkFlagValues({ quiet: true, 'load-modules': false, out: 'x' }, y, args);

describe('checkFlagValues: boolean flags', () => {
  it('accepts each boolean flag once, in any spelling', () => {
    for (const args of [['--quiet'], ['--no-quiet'], ['--quiet=false'], ['--quiet', '--load-modules'], ['--loadModules'], []])
      expect(check(args), args.join(' ')).not.toThrow();
  });

  it('refuses a boolean flag given twice, with its negation or in another spelling, naming it once', () => {
    const cases: [string[], string][] = [
      [['--quiet', '--quiet'], '--quiet given twice; give it once'],
      [['--quiet', '--no-quiet'], '--quiet given twice; give it once'],
      [['--no-quiet', '--quiet=true'], '--quiet given twice; give it once'],
      [['--no-quiet=false', '--out', 'd', '--quiet'], '--quiet given twice; give it once'],
      [['--load-modules', '--no-loadModules'], '--load-modules given twice; give it once'],
      [['--quiet', '--quiet', '--no-quiet'], '--quiet given 3 times; give it once'],
    ];
    for (const [args, message] of cases) {
      expect(check(args), args.join(' ')).toThrow(UsageError);
      expect(check(args), args.join(' ')).toThrow(message);
    }
  });

  it('counts no value of another flag, nothing after --, and not yargs own --help', () => {
    expect(check(['--out=--quiet', '--quiet'])).not.toThrow();
    expect(check(['--quiet', '--', '--quiet'])).not.toThrow();
    expect(check(['--help', '--help'])).not.toThrow();
  });
});
