/** Every registered command. Only commands that really work are listed here. */
import type { Command } from 'commander';
import { registerConfig } from './config.js';
import { registerContext } from './context.js';
import { registerValidate } from './validate.js';
import { registerEmulator } from './emulator.js';
import { registerNotify } from './notify.js';
import { registerSmoke } from './smoke.js';
import { registerPlan } from './plan.js';
import { registerDeploy } from './deploy.js';
import { registerRollback } from './rollback.js';
import { registerBackup } from './backup.js';
import { registerStatus } from './status.js';
import { registerDemo } from './demo.js';

export function registerCommands(program: Command): void {
  registerContext(program);
  registerConfig(program);
  registerValidate(program);
  registerEmulator(program);
  registerNotify(program);
  registerSmoke(program);
  registerPlan(program);
  registerDeploy(program);
  registerRollback(program);
  registerBackup(program);
  registerStatus(program);
  registerDemo(program);
}
