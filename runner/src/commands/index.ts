/** Every registered command. Only commands that really work are listed here. */
import type { Command } from 'commander';
import { registerConfig } from './config.js';
import { registerContext } from './context.js';
import { registerNotify } from './notify.js';
import { registerSmoke } from './smoke.js';

export function registerCommands(program: Command): void {
  registerContext(program);
  registerConfig(program);
  registerNotify(program);
  registerSmoke(program);
}
