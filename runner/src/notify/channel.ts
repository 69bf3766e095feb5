/** What a channel reports back to the notify command. */
export const CHANNELS = ['slack', 'email'] as const;
export type ChannelName = (typeof CHANNELS)[number];

/** A notification that could not be delivered: a warning, or exit 1 with --strict. Messages are masked. */
export class NotifyError extends Error {
  override name = 'NotifyError';
}

export interface ChannelOutcome {
  channel: ChannelName;
  status: 'sent' | 'skipped' | 'failed' | 'rendered';
  detail: string;
  /** The `on:` rules this build matched. */
  matched: string[];
}
