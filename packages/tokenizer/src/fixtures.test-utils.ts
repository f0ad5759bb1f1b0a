/// <reference types="node" />
// Test-only: typed access to the fixtures written by scripts/make-fixtures.py from Hugging Face transformers.
import { readFileSync } from 'node:fs';
import type { ChatMessage } from './chat-template.js';
import type { ModelName } from './gguf-files.test-utils.js';

export interface SampleTextFixture {
  readonly parts: ReadonlyArray<{ readonly source: string; readonly text: string }>;
  readonly sample: string;
  readonly words: number;
}

export interface ChatFixture {
  readonly messages: readonly ChatMessage[];
  readonly withGenerationPrompt: string;
  readonly withoutGenerationPrompt?: string;
}

export interface ModelFixture {
  readonly model: ModelName;
  readonly bosTokenId: number;
  readonly eosTokenId: number;
  readonly vocabularySize: number;
  readonly sample: {
    readonly idsWithSpecialTokens: readonly number[];
    readonly idsWithoutSpecialTokens: readonly number[];
    readonly decoded: string;
  };
  readonly parts: ReadonlyArray<readonly number[]>;
  readonly edgeCases: ReadonlyArray<{
    readonly text: string;
    readonly ids: readonly number[];
    readonly idsWithoutSpecialTokens: readonly number[];
    /** Hugging Face's decode of idsWithoutSpecialTokens: the text itself, except where the text is not kept. */
    readonly decoded: string;
  }>;
  readonly decodeMixed: { readonly ids: readonly number[]; readonly text: string; readonly textSkippingSpecialTokens: string };
  readonly tokenStrings: Readonly<Record<string, string>>;
  readonly chat: readonly ChatFixture[];
  readonly externalChatTemplate: {
    readonly template: string;
    readonly cases: readonly ChatFixture[];
    readonly rejected: ReadonlyArray<readonly ChatMessage[]>;
  } | null;
}

function readFixture(name: string): unknown {
  return JSON.parse(readFileSync(new URL(`../fixtures/${name}`, import.meta.url), 'utf8'));
}

export function sampleTextFixture(): SampleTextFixture {
  return readFixture('sample-text.json') as SampleTextFixture;
}

export function modelFixture(model: ModelName): ModelFixture {
  return readFixture(`${model}.json`) as ModelFixture;
}
