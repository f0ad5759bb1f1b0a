import { describe, expect, it } from 'vitest';
import { defaultSweepMethods, parseSweepArguments, parseSweepMethods, peerMethods } from './sweep-arguments.js';
import { childFailureReason, jsonLines } from './sweep-child.js';
import { tokenizeTextPrefix } from './sweep-tokens.js';

describe('eval --sweep arguments', () => {
  it('splits --methods on ";" so methods keep their commas', () => {
    expect(parseSweepMethods('qaq; qaq:sk=0.003,sv=0.01 ;uniform:4;')).toEqual(['qaq', 'qaq:sk=0.003,sv=0.01', 'uniform:4']);
    expect(() => parseSweepMethods(' ; ')).toThrow(/at least one method/);
    expect(() => parseSweepMethods('qaq;qaq')).toThrow(/names qaq twice/);
  });

  it('defaults to the documented list, adds the peers with --peers, and maps qaq bit widths', () => {
    const options = parseSweepArguments(['--sweep', '--text', 'book.txt', '--out', 'report']);
    expect(options.methods).toEqual(defaultSweepMethods);
    expect(options.heatmapMethod).toBe('qaq');
    expect(options.context).toBe(1024);
    expect(options.maxTokens).toBe(4096);
    expect(options.groupSize).toBe(1);
    expect(parseSweepArguments(['--text', 'b.txt', '--out', 'r', '--lockstep']).groupSize).toBe(Number.POSITIVE_INFINITY);
    expect(parseSweepArguments(['--text', 'b.txt', '--out', 'r', '--group-size', '5']).groupSize).toBe(5);
    expect(() => parseSweepArguments(['--text', 'b.txt', '--out', 'r', '--group-size', '5', '--lockstep'])).toThrow(/not both/);
    expect(options.command).toBe('pnpm qaq eval --sweep --text book.txt --out report');
    const withPeers = parseSweepArguments(['--text', 'b.txt', '--out', 'r', '--methods', 'qaq:compact;llama-f16', '--peers', '--context', '2048', '--stride', '512']);
    expect(withPeers.methods).toEqual(['qaq:compact', ...peerMethods]);
    expect(withPeers.heatmapMethod).toBe('qaq:compact');
    expect(withPeers.stride).toBe(512);
    expect(withPeers.command).toContain("--methods 'qaq:compact;llama-f16'");
    expect(options.attentionThreads).toBeUndefined();
    expect(parseSweepArguments(['--text', 'b.txt', '--out', 'r', '--attention-threads', '1']).attentionThreads).toBe('1');
  });

  it('refuses missing or bad flags with a usage error', () => {
    expect(() => parseSweepArguments(['--out', 'r'])).toThrow(/--text/);
    expect(() => parseSweepArguments(['--text', 'b.txt'])).toThrow(/--out/);
    expect(() => parseSweepArguments(['--text', 'b.txt', '--out', 'r', '--context', '0'])).toThrow(/--context/);
    expect(() => parseSweepArguments(['--text', 'b.txt', '--out', 'r', '--context', '64', '--stride', '64'])).toThrow(/--stride/);
    expect(() => parseSweepArguments(['--text', 'b.txt', '--out', 'r', '--methods', 'uniform:4', '--heatmap-method', 'qaq'])).toThrow(/not among the swept methods/);
    expect(() => parseSweepArguments(['--text', 'b.txt', '--out', 'r', '--bogus'])).toThrow();
    expect(() => parseSweepArguments(['--text', 'b.txt', '--out', 'r', '--attention-threads', '0'])).toThrow(/--attention-threads/);
    expect(parseSweepArguments(['--text', 'b.txt', '--out', 'r', '--methods', 'uniform:4']).heatmapMethod).toBeNull();
    expect(parseSweepArguments(['--text', 'b.txt', '--out', 'r', '--no-heatmap']).heatmapMethod).toBeNull();
  });
});

describe('sweep children', () => {
  it('reads JSON lines and says why a child failed', () => {
    expect(jsonLines('loading\n{"method":"qaq"}\n{broken\n{"result":1}\n')).toEqual([{ method: 'qaq' }, { result: 1 }]);
    const failed = { exitCode: 1, signal: null, timedOut: false, stdout: '', stderrTail: 'loaded\nerror [kv-method-unavailable]: ort-int4 is not available\n' };
    expect(childFailureReason(failed, 5)).toBe('exited with 1: error [kv-method-unavailable]: ort-int4 is not available');
    expect(childFailureReason({ ...failed, timedOut: true }, 5)).toBe('timed out after 5 min');
  });

  it('takes the first N tokens of a text, widening the slice until it has them', () => {
    const calls: number[] = [];
    const tokenizer = {
      encode: (text: string): Int32Array => {
        calls.push(text.length);
        return Int32Array.from(text.split(' ').filter((word) => word !== ''), (_, index) => index);
      },
    };
    const text = 'word '.repeat(100);
    // 6 characters per requested token first: 10 tokens → 60 characters = 12 words, enough.
    expect(tokenizeTextPrefix(tokenizer as never, text, 10)).toEqual(Int32Array.from({ length: 10 }, (_, index) => index));
    expect(tokenizeTextPrefix(tokenizer as never, text, 150).length).toBe(100);
    expect(calls.at(-1)).toBeGreaterThanOrEqual(text.length);
  });
});
