interface MonotonicClock {
  now(): number;
}

// `performance` exists in browsers, workers, Node and Deno, but this package compiles without DOM or Node types.
const globalPerformance = (globalThis as { performance?: MonotonicClock }).performance;

/** Milliseconds from a monotonic clock (performance.now), falling back to Date.now where none exists. */
export function nowMilliseconds(): number {
  return globalPerformance === undefined ? Date.now() : globalPerformance.now();
}
