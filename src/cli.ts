#!/usr/bin/env node
/**
 * The desim command line: a thin yargs shell over the library. Only this file
 * reads argv, writes to stdout/stderr and sets exit codes.
 */
import yargs from 'yargs';
import { hideBin } from 'yargs/helpers';
import { benchKernel } from './bench/kernel.js';

function printBench(name: string, fields: Record<string, number>, json: boolean): void {
  if (json) {
    process.stdout.write(JSON.stringify({ bench: name, ...fields }) + '\n');
    return;
  }
  const parts = Object.entries(fields).map(([k, v]) => `${k}=${Number.isInteger(v) ? v : v.toFixed(k.endsWith('_s') ? 3 : 1)}`);
  process.stdout.write(`${name} ${parts.join(' ')}\n`);
}

await yargs(hideBin(process.argv))
  .scriptName('desim')
  .usage('$0 <command> [options]\n\nDeterministic discrete-event simulation of networked systems.')
  .command(
    'bench <what>',
    'Measure simulator speed (wall-clock figures; the only command that reads the clock)',
    (y) =>
      y
        .positional('what', { choices: ['kernel'] as const, describe: 'which benchmark', demandOption: true })
        .option('json', { type: 'boolean', default: false, describe: 'print a JSON object instead of key=value' })
        .option('events', { type: 'number', default: 2_000_000, describe: 'kernel: events to fire' })
        .option('pending', { type: 'number', default: 10_000, describe: 'kernel: events kept pending' })
        .example('$0 bench kernel', 'hold model: 10,000 pending events, 2,000,000 fired'),
    (argv) => {
      if (argv.what === 'kernel') {
        const r = benchKernel(argv.events, argv.pending);
        printBench('kernel_hold', { events_per_s: Math.round(r.eventsPerS), peak_rss_mb: Math.round(r.peakRssMb) }, argv.json);
      }
    },
  )
  .demandCommand(1, 'Say which command to run (see the list above).')
  .strict()
  .help()
  .version()
  .parseAsync();
