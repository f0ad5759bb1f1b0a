// The multi-threaded kernel module (imported shared memory, threads feature): the same attention as kernel.ts,
// plus the chunk loop every thread runs. One call is split into token-range chunks (the flash-decoding split);
// threads claim chunks from a counter in a small control block until none is left, so a thread that wakes late
// only takes fewer chunks. The main thread publishes a call, works on it too, waits for DONE and runs mergeParts.
import { attendRange, lowestVisibleToken } from './attention';

export { attend, scratchBytes, heapBase, mergeParts, normalizeParts, partialBytes } from './attention';

// Control block, i32 words (the wrapper, src/kernel-threads-control.ts, writes the same layout).
const GENERATION: i32 = 0; // bumped per published call (and at exit); idle threads wait on it
const CLAIM: i32 = 1; // (generation & 0xffff) << 16 | next chunk: a claim is a compare-exchange
const DONE: i32 = 2; // chunks finished in the current call
const EXIT: i32 = 4; // non-zero: serve returns
const SPIN: i32 = 5; // polls of GENERATION before an idle thread sleeps
// The published call (plain words, written before GENERATION).
const KEY_DESCRIPTOR: i32 = 8;
const VALUE_DESCRIPTOR: i32 = 9;
const TOKEN_COUNT: i32 = 10;
const KV_HEADS: i32 = 11;
const HEAD_DIM: i32 = 12;
const GROUPS_PER_TOKEN: i32 = 13;
const QUERY_HEADS: i32 = 14;
const QUERY_COUNT: i32 = 15;
const FIRST_POSITION: i32 = 16;
const WINDOW: i32 = 17;
const SCORE_SCALE: i32 = 18; // f32
const QUERIES: i32 = 19;
const SHARED_SCORES: i32 = 20;
const PARTIALS: i32 = 21;
const CHUNK_STRIDE: i32 = 22;
const CHUNK_TOKENS: i32 = 23;
const CHUNK_COUNT: i32 = 24;
const SCRATCH: i32 = 25;
const SCRATCH_STRIDE: i32 = 26;
const NEGLIGIBLE_PROBABILITY: i32 = 27; // f32
const PHASE: i32 = 28; // PHASE_BOTH, PHASE_SCORES or PHASE_VALUES
const NORMALIZERS: i32 = 29; // normalizeParts' output, read in PHASE_VALUES
const FLAGS: i32 = 30; // attendRange's flags: AttentionOptions.fastScores (1), fastValues (2)
const PHASE_SCORES: i32 = 1;
// After a call's score phase its value phase follows within microseconds (normalizeParts, one publish): a thread
// polls for it this many times (≈ 0.1 ms) instead of going to sleep and being woken again.
const NEXT_PHASE_SPIN_POLLS: i32 = 1 << 16;

@inline function controlAddress(control: usize, index: i32): usize {
  return control + (<usize>index << 2);
}

@inline function parameter(control: usize, index: i32): i32 {
  return load<i32>(controlAddress(control, index));
}

/** Runs chunk `chunk` of the published call on `thread`'s scratch. */
function runChunk(control: usize, thread: i32, chunk: i32): void {
  const chunkTokens = parameter(control, CHUNK_TOKENS);
  const firstPosition = parameter(control, FIRST_POSITION);
  const window = parameter(control, WINDOW);
  const start = lowestVisibleToken(firstPosition, window) + chunk * chunkTokens;
  attendRange(
    <usize>parameter(control, KEY_DESCRIPTOR),
    <usize>parameter(control, VALUE_DESCRIPTOR),
    parameter(control, TOKEN_COUNT),
    parameter(control, KV_HEADS),
    parameter(control, HEAD_DIM),
    parameter(control, GROUPS_PER_TOKEN),
    parameter(control, QUERY_HEADS),
    parameter(control, QUERY_COUNT),
    firstPosition,
    window,
    load<f32>(controlAddress(control, SCORE_SCALE)),
    <usize>parameter(control, QUERIES),
    0,
    0,
    <usize>parameter(control, SCRATCH) + <usize>parameter(control, SCRATCH_STRIDE) * <usize>thread,
    start,
    start + chunkTokens,
    <usize>parameter(control, SHARED_SCORES),
    <usize>parameter(control, PARTIALS) + <usize>parameter(control, CHUNK_STRIDE) * <usize>chunk,
    load<f32>(controlAddress(control, NEGLIGIBLE_PROBABILITY)),
    parameter(control, PHASE),
    <usize>parameter(control, NORMALIZERS),
    parameter(control, FLAGS),
  );
}

/**
 * Claims and runs chunks of the current call until none is left; returns how many this thread ran. A claim
 * carries the call's generation, so a thread holding a stale view of the call fails its compare-exchange instead
 * of running a chunk of a call it did not read; the call's words cannot change while a claimed chunk is unfinished.
 */
export function work(control: usize, thread: i32): i32 {
  const generation = atomic.load<i32>(controlAddress(control, GENERATION)) & 0xffff;
  let completed = 0;
  while (true) {
    const claim = atomic.load<i32>(controlAddress(control, CLAIM));
    if (<i32>(<u32>claim >>> 16) != generation) break;
    const chunk = claim & 0xffff;
    const chunkCount = parameter(control, CHUNK_COUNT);
    if (chunk >= chunkCount) break;
    if (atomic.cmpxchg<i32>(controlAddress(control, CLAIM), claim, claim + 1) != claim) continue;
    // Newest tokens first: they draw most of the attention, so in a decode step's value pass (negligible tokens
    // skipped) their chunk keeps the most tokens; claimed last, it would leave the other threads waiting.
    runChunk(control, thread, chunkCount - 1 - chunk);
    completed += 1;
    if (atomic.add<i32>(controlAddress(control, DONE), 1) + 1 == chunkCount) atomic.notify(controlAddress(control, DONE));
  }
  return completed;
}

/** A worker thread's loop: sleep until GENERATION moves past `seen`, work on that call, repeat until EXIT. */
export function serve(control: usize, thread: i32, seen: i32): void {
  while (atomic.load<i32>(controlAddress(control, EXIT)) == 0) {
    let generation = atomic.load<i32>(controlAddress(control, GENERATION));
    const spins = parameter(control, PHASE) == PHASE_SCORES ? NEXT_PHASE_SPIN_POLLS : parameter(control, SPIN);
    for (let poll = 0; generation == seen && poll < spins; poll += 1) generation = atomic.load<i32>(controlAddress(control, GENERATION));
    if (generation == seen) {
      atomic.wait<i32>(controlAddress(control, GENERATION), seen, -1);
      continue;
    }
    seen = generation;
    work(control, thread);
  }
}
