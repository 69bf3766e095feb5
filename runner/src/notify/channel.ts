/** The notification channels, and the error a channel reports when it cannot deliver. */
import type { ChannelOutcome } from '../results/commands.js';

export const CHANNELS = ['slack', 'email'] as const satisfies readonly ChannelOutcome['channel'][];
export type ChannelName = (typeof CHANNELS)[number];

/** A notification that could not be delivered: a warning, or exit 1 with --strict. Messages are masked. */
export class NotifyError extends Error {
  override name = 'NotifyError';
}
