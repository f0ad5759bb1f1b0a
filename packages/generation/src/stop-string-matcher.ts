import { QaqError } from '@qaq/errors';

export interface StopMatchStep {
  /** Text that can no longer be part of a stop string: safe to show. */
  readonly text: string;
  /** The stop string that ended generation, if one completed in this step. */
  readonly stopString: string | undefined;
}

/**
 * Finds stop strings in streamed text, across token boundaries. Text that could still be the beginning of a stop
 * string is held back until it is ruled out, so no partial stop string is ever emitted; the stop string itself and
 * everything after it are dropped.
 */
export class StopStringMatcher {
  private readonly stopStrings: readonly string[];
  private held = '';
  private stopped = false;

  constructor(stopStrings: readonly string[]) {
    for (const stopString of stopStrings) {
      if (typeof stopString !== 'string' || stopString.length === 0) {
        throw new QaqError('invalid-stop-string', 'stop strings must be non-empty strings', {
          details: { stopString },
        });
      }
    }
    this.stopStrings = [...stopStrings];
  }

  get hasStopped(): boolean {
    return this.stopped;
  }

  /** Adds decoded text; returns what may be emitted now and whether a stop string completed. */
  push(delta: string): StopMatchStep {
    if (this.stopped) return { text: '', stopString: undefined };
    const buffer = this.held + delta;
    let earliest = -1;
    let matched: string | undefined;
    for (const stopString of this.stopStrings) {
      const index = buffer.indexOf(stopString);
      if (index >= 0 && (earliest < 0 || index < earliest)) {
        earliest = index;
        matched = stopString;
      }
    }
    if (matched !== undefined) {
      this.stopped = true;
      this.held = '';
      return { text: buffer.slice(0, earliest), stopString: matched };
    }
    const holdLength = this.longestSuffixThatStartsAStopString(buffer);
    this.held = buffer.slice(buffer.length - holdLength);
    return { text: buffer.slice(0, buffer.length - holdLength), stopString: undefined };
  }

  /** At the end of generation the held text is ruled out as a stop string: release it. */
  flush(): string {
    const text = this.stopped ? '' : this.held;
    this.held = '';
    return text;
  }

  private longestSuffixThatStartsAStopString(buffer: string): number {
    let longest = 0;
    for (const stopString of this.stopStrings) {
      const maximum = Math.min(stopString.length - 1, buffer.length);
      for (let length = maximum; length > longest; length--) {
        if (buffer.endsWith(stopString.slice(0, length))) {
          longest = length;
          break;
        }
      }
    }
    return longest;
  }
}
