import { afterAll, describe, expect, it, vi } from 'vitest';
import { captureLog, installLogCapture, logCaptureInstalled } from './log-capture.js';

describe('log capture on console.error', () => {
  const printed: string[] = [];
  const spy = vi.spyOn(console, 'error').mockImplementation((...values: unknown[]) => {
    printed.push(values.map(String).join(' '));
  });
  afterAll(() => spy.mockRestore());

  it('forwards everything outside a capture, keeps captured lines off the console, and prints them if the action fails', async () => {
    expect(logCaptureInstalled()).toBe(false);
    installLogCapture();
    installLogCapture(); // idempotent: one wrapper
    expect(logCaptureInstalled()).toBe(true);
    console.error('before', 1);
    const { result, lines } = await captureLog(async () => {
      console.error('[V:onnxruntime:, session_state.cc:1380 VerifyEachNodeIsAssignedToAnEp]  All nodes placed on [X]. Number of nodes: 1');
      return 42;
    });
    expect(result).toBe(42);
    expect(lines).toEqual(['[V:onnxruntime:, session_state.cc:1380 VerifyEachNodeIsAssignedToAnEp]  All nodes placed on [X]. Number of nodes: 1']);
    console.error('after');
    expect(printed).toEqual(['before 1', 'after']);
    await expect(
      captureLog(async () => {
        console.error('why it failed');
        throw new Error('load failed');
      }),
    ).rejects.toThrow('load failed');
    expect(printed).toEqual(['before 1', 'after', 'why it failed']);
  });
});
