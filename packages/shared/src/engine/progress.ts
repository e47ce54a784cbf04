/** Progress of a long operation, reported as it goes (CLI bars, BullMQ job progress). */
export interface Progress {
  bytesDone: number;
  bytesTotal: number;
}
export type ProgressListener = (p: Progress) => void;
