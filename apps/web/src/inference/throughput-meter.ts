/**
 * Live decode speed: tokens per second over the decode steps so far (the first token, which ends the prefill,
 * starts the clock). Time spent by the page between events counts too, as a user sees it.
 */
export class ThroughputMeter {
  #firstTokenAt: number | null = null;
  #decodedTokens = 0;
  #lastTokenAt = 0;

  constructor(private readonly now: () => number = () => performance.now()) {}

  /** Call once per generated token. */
  tick(): void {
    const now = this.now();
    if (this.#firstTokenAt === null) this.#firstTokenAt = now;
    else this.#decodedTokens++;
    this.#lastTokenAt = now;
  }

  /** Tokens per second after the first token; null until two tokens came. */
  get tokensPerSecond(): number | null {
    if (this.#firstTokenAt === null || this.#decodedTokens === 0) return null;
    const seconds = (this.#lastTokenAt - this.#firstTokenAt) / 1000;
    return seconds > 0 ? this.#decodedTokens / seconds : null;
  }
}
