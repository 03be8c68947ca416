#!/usr/bin/env node
/**
 * A stand-alone entry for the real-network commands (`node`, `kv`,
 * `cluster`), used by the transport tests and usable until the main CLI
 * registers them. Bad arguments exit with code 2.
 */
import yargs from 'yargs';
import { hideBin } from 'yargs/helpers';
import { clusterCommand, kvCommand, nodeCommand } from './commands.js';

await yargs(hideBin(process.argv))
  .scriptName('desim')
  .command(nodeCommand)
  .command(kvCommand)
  .command(clusterCommand)
  .demandCommand(1, 'Say which command to run: node, kv or cluster.')
  .strict()
  .fail((msg, err, y) => {
    if (err !== undefined && err !== null) throw err;
    y.showHelp();
    process.stderr.write(`\ndesim: ${msg}\n`);
    process.exit(2);
  })
  .help()
  .parseAsync();
