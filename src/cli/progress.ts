import type { Ora } from 'ora';
import type { ProgressEvent } from '../index.js';
import { colours, type GlobalFlags, type Io } from './io.js';

/**
 * Progress of long runs on stderr: an ora spinner with counts, rate and time
 * left when stderr is a terminal; otherwise one plain line per finished tenant.
 * Nothing with --quiet.
 */
export class Progress {
  /** ora, loaded only for a terminal (most runs, in pipelines and scripts, never draw a spinner). */
  private static ora: typeof import('ora').default | undefined;
  private spinner: Ora | undefined;
  private started = Date.now();
  private c = colours({ stdout: {}, env: {} } as Io);

  constructor(
    private io: Io,
    private flags: GlobalFlags,
  ) {}

  /** The progress of a run on io: ora is loaded first when the run draws a spinner. */
  static async for(io: Io, flags: GlobalFlags): Promise<Progress> {
    const progress = new Progress(io, flags);
    if (progress.spins() && !Progress.ora) Progress.ora = (await import('ora')).default;
    return progress;
  }

  /** A spinner is drawn on a terminal that reports its width (some ptys say 0 columns: ora would redraw without end), unless --quiet. */
  private spins(): boolean {
    const columns = (this.io.stderr as { columns?: number }).columns ?? 0;
    return !this.flags.quiet && this.io.stderr.isTTY === true && columns > 0;
  }

  start(text: string): void {
    const ora = Progress.ora;
    if (!ora || !this.spins()) return;
    this.started = Date.now();
    // ora colours with its own chalk, which reads the process's terminal, not this command's NO_COLOR /
    // FORCE_COLOR: it gets no colour, and the text is coloured here by the command's own rules.
    this.c = colours({ ...this.io, stdout: this.io.stderr });
    this.spinner = ora({
      text: this.c.cyan(text),
      stream: this.io.stderr as NodeJS.WritableStream & { isTTY: boolean },
      discardStdin: false,
      color: false,
    }).start();
  }

  tenant(event: ProgressEvent): void {
    if (this.flags.quiet) return;
    const left = event.total - event.done;
    if (this.spinner) {
      const seconds = (Date.now() - this.started) / 1000;
      const rate = event.done / Math.max(seconds, 0.001);
      const eta = rate > 0 ? Math.ceil(left / rate) : 0;
      const failed = event.failed > 0 ? this.c.red(`${event.failed} failed`) : `${event.failed} failed`;
      this.spinner.text = `${this.c.cyan(`${event.done} done`)}, ${failed}, ${left} left  ${rate.toFixed(1)}/s  ~${eta}s left`;
    } else {
      this.io.stderr.write(`${event.id}: ${event.status} (${event.done}/${event.total})\n`);
    }
  }

  /** A line of its own on a terminal's spinner (how far a long single operation is); nothing elsewhere. */
  note(text: string): void {
    if (this.spinner) this.spinner.text = this.c.cyan(text);
  }

  stop(): void {
    this.spinner?.stop();
    this.spinner = undefined;
  }
}
