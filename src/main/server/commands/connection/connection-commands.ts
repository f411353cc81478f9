// Owns the connection family's list: commands about the client's own connection (protocol,
// authentication, name, database; README: "connection"). A new connection command is one file
// in this folder exporting its `CommandSpec`, plus one line here.

import type { CommandSpec } from '../command-spec.js';
import { authCommand } from './auth.js';
import { clientCommand } from './client.js';
import { echoCommand } from './echo.js';
import { helloCommand } from './hello.js';
import { pingCommand } from './ping.js';
import { quitCommand } from './quit.js';
import { resetCommand } from './reset.js';
import { selectCommand } from './select.js';

/** The connection family, registered by `command-table.ts`. */
export const CONNECTION_COMMANDS: readonly CommandSpec[] = [
  authCommand,
  clientCommand,
  echoCommand,
  helloCommand,
  pingCommand,
  quitCommand,
  resetCommand,
  selectCommand,
];
