// proxy-from-env ships no types.
declare module 'proxy-from-env' {
  /** The proxy URL for `url` from HTTP(S)_PROXY/ALL_PROXY, or '' when none applies (NO_PROXY honoured). */
  export function getProxyForUrl(url: string | URL): string;
}
