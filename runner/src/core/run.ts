/**
 * One run of the CLI: its I/O (stdout, stderr, environment, working directory) and what it opened (console
 * sessions, HTTP agents, the secrets to mask, the log settings). `main(argv, io)` makes a Run and runs the command
 * inside it; modules find the current run through AsyncLocalStorage, so two runs in one process (tests, a host
 * that embeds the runner) never share a session, a host gate or a secret, even when they overlap.
 *
 * Code that runs outside any run (engines called directly by tests or other tools) gets the process scope: the
 * process's streams, environment and working directory, and resources kept until `resetProcessScope()`.
 */
import { AsyncLocalStorage } from 'node:async_hooks';

/** What a run writes to: a Node stream or anything with the same write(). */
export interface OutStream {
  write(chunk: string | Uint8Array, ...rest: any[]): boolean;
  isTTY?: boolean;
  columns?: number;
}

export interface RunIO {
  stdout: OutStream;
  stderr: OutStream;
  env: NodeJS.ProcessEnv;
  cwd: string;
}

interface Slot {
  value: unknown;
  close?: (value: any) => void;
}

/** A scope of resources, closed in reverse order of creation. */
export class Scope {
  private readonly slots = new Map<symbol, Slot>();

  constructor(private readonly ioOf: () => RunIO) {}

  get io(): RunIO {
    return this.ioOf();
  }

  /** The scope's instance of a resource, made on first use; `close` runs when the scope closes. */
  slot<T>(key: symbol, create: () => T, close?: (value: T) => void): T {
    let s = this.slots.get(key);
    if (!s) {
      s = { value: create(), close };
      this.slots.set(key, s);
    }
    return s.value as T;
  }

  /** Closes one resource now (the next slot() makes a new one). */
  drop(key: symbol): void {
    const s = this.slots.get(key);
    if (!s) return;
    this.slots.delete(key);
    s.close?.(s.value);
  }

  /**
   * Closes every resource that has a close (plain settings such as the secrets stay, so the run can still log).
   * A failing close does not keep the others open, nor change the command's outcome (a socket already gone): the
   * errors are returned for the debug log.
   */
  close(): unknown[] {
    const errors: unknown[] = [];
    for (const [key, s] of [...this.slots].reverse()) {
      if (!s.close) continue;
      this.slots.delete(key);
      try {
        s.close(s.value);
      } catch (e) {
        errors.push(e);
      }
    }
    return errors;
  }
}

const storage = new AsyncLocalStorage<Scope>();

const processIO: RunIO = {
  get stdout() {
    return process.stdout;
  },
  get stderr() {
    return process.stderr;
  },
  get env() {
    return process.env;
  },
  get cwd() {
    return process.cwd();
  },
};

let processScope = new Scope(() => processIO);

/** The current run's scope, or the process scope outside any run. */
export function currentScope(): Scope {
  return storage.getStore() ?? processScope;
}

/** Runs `fn` with `scope` as the current run; the caller closes the scope (see program.ts). */
export function within<T>(scope: Scope, fn: () => Promise<T>): Promise<T> {
  return storage.run(scope, fn);
}

/** Closes what code outside any run opened (tests, between cases). */
export function resetProcessScope(): void {
  const old = processScope;
  processScope = new Scope(() => processIO);
  old.close();
}

/** The environment of the current run (process.env outside a run). */
export function runEnv(): NodeJS.ProcessEnv {
  return currentScope().io.env;
}

/** The working directory of the current run (process.cwd() outside a run). */
export function runCwd(): string {
  return currentScope().io.cwd;
}
