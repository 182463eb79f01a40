/** Where core functions send people's text. The library default says nothing. */
export interface Logger {
  info(line: string): void;
  warn(line: string): void;
  debug(line: string): void;
}

/** Progress of a fleet run: a tenant finished (ok or not). */
export interface ProgressEvent {
  id: string;
  status: string;
  done: number;
  failed: number;
  total: number;
}

export const silentLogger: Logger = { info: () => undefined, warn: () => undefined, debug: () => undefined };
