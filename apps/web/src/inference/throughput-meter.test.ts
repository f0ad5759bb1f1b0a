import { describe, expect, it } from 'vitest';
import { ThroughputMeter } from './throughput-meter.js';

describe('ThroughputMeter', () => {
  it('counts tokens after the first one over the time since the first one', () => {
    let now = 1000;
    const meter = new ThroughputMeter(() => now);
    expect(meter.tokensPerSecond).toBeNull();
    meter.tick(); // the first token ends the prefill: the clock starts here
    expect(meter.tokensPerSecond).toBeNull();
    now += 250;
    meter.tick();
    now += 250;
    meter.tick();
    expect(meter.tokensPerSecond).toBeCloseTo(4, 10); // 2 tokens in 0.5 s
  });
});
