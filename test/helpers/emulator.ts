/** One emulator per mocha suite (or per test), with the client caches and the secret registry reset around it. */
import { startEmulator, type Emulator, type EmulatorOptions } from '../../runner/src/emulator/index.js';
import { clearSecrets } from '../../runner/src/core/mask.js';
import { closeConsoles } from '../../runner/src/dify/console.js';
import { resetHostGates } from '../../runner/src/dify/host-gate.js';

/** Drops the cached console sessions and the per-host request gates, so each test starts with new clients. */
export function freshClients(): void {
  closeConsoles();
  resetHostGates();
}

/**
 * Registers the suite's hooks: an emulator on a free port before all tests, reset (with fresh clients) before each,
 * the secret registry cleared after each, closed after all. Returns a getter for the running emulator.
 */
export function useEmulator(opts: EmulatorOptions = {}): () => Emulator {
  let emu: Emulator | undefined;
  before(async () => {
    emu = await startEmulator({ port: 0, ...opts });
  });
  after(async () => {
    freshClients();
    await emu?.close();
  });
  beforeEach(() => {
    emu!.reset();
    freshClients();
  });
  afterEach(() => clearSecrets());
  return () => {
    if (!emu) throw new Error('the emulator is not started yet (use it inside hooks and tests)');
    return emu;
  };
}

/** An emulator for the duration of `fn`, then the client caches (and optionally the secret registry) dropped and it closed. */
export async function withEmulator(opts: EmulatorOptions, fn: (emu: Emulator) => Promise<void>, cleanup: { clearSecrets?: boolean } = {}): Promise<void> {
  const emu = await startEmulator({ port: 0, ...opts });
  try {
    await fn(emu);
  } finally {
    freshClients();
    if (cleanup.clearSecrets) clearSecrets();
    await emu.close();
  }
}
