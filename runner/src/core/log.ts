/**
 * Human messages go to the run's stderr; stdout is for data only. Colour only on a TTY or with FORCE_COLOR, never
 * with NO_COLOR or --no-color. The settings belong to the run (core/run.ts); every line is masked.
 */
import { mask } from './mask.js';
import { currentScope } from './run.js';

export type Level = 'debug' | 'info' | 'warn' | 'error';

interface LogState {
  verbose: boolean;
  color: boolean;
  quiet: boolean;
}

const LOG = Symbol('dify-ci.log');

function state(): LogState {
  const scope = currentScope();
  return scope.slot(LOG, () => ({ verbose: false, color: decideColor(scope.io.env, Boolean(scope.io.stderr.isTTY), undefined), quiet: false }));
}

export function decideColor(env: NodeJS.ProcessEnv, isTTY: boolean, flag: boolean | undefined): boolean {
  if (flag === false) return false;
  if (env.NO_COLOR !== undefined && env.NO_COLOR !== '') return false;
  if (env.FORCE_COLOR !== undefined && env.FORCE_COLOR !== '0' && env.FORCE_COLOR !== 'false') return true;
  return isTTY;
}

export function configureLog(opts: { verbose?: boolean; color?: boolean; quiet?: boolean }): void {
  const s = state();
  const io = currentScope().io;
  if (opts.verbose !== undefined) s.verbose = opts.verbose;
  if (opts.color !== undefined) s.color = decideColor(io.env, Boolean(io.stderr.isTTY), opts.color);
  if (opts.quiet !== undefined) s.quiet = opts.quiet;
}

export function isVerbose(): boolean {
  return state().verbose;
}
export function useColor(): boolean {
  return state().color;
}

const CODES = { red: 31, green: 32, yellow: 33, blue: 34, magenta: 35, cyan: 36, gray: 90, bold: 1, dim: 2 } as const;
export type Colour = keyof typeof CODES;

export function paint(colour: Colour, text: string): string {
  return state().color ? `\u001b[${CODES[colour]}m${text}\u001b[0m` : text;
}

function write(line: string): void {
  currentScope().io.stderr.write(mask(line) + '\n');
}

export const log = {
  debug(msg: string): void {
    if (state().verbose) write(paint('gray', msg));
  },
  info(msg: string): void {
    if (!state().quiet) write(msg);
  },
  step(msg: string): void {
    if (!state().quiet) write(paint('cyan', '▸ ') + msg);
  },
  ok(msg: string): void {
    if (!state().quiet) write(paint('green', '✔ ') + msg);
  },
  warn(msg: string): void {
    write(paint('yellow', 'warning: ') + msg);
  },
  error(msg: string): void {
    write(paint('red', 'error: ') + msg);
  },
};
