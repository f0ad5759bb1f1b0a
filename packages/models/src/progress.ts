/** What a long model operation is doing; apps render these however they like. */
export type ModelProgressPhase = 'download' | 'extract' | 'concatenate' | 'verify';

export interface ModelProgressEvent {
  readonly phase: ModelProgressPhase;
  /** Short human label, e.g. the file or wheel name. */
  readonly label: string;
  readonly completedBytes: number;
  /** Unknown for downloads without a Content-Length (or before pip reports a size). */
  readonly totalBytes: number | undefined;
  /** A line of tool output (pip) to show on the progress line. */
  readonly message?: string;
  /** True on the last event of an operation. */
  readonly done?: boolean;
}

export type ModelProgressListener = (event: ModelProgressEvent) => void;
