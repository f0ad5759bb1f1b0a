#!/usr/bin/env python3
"""Reference logits for the onnx-graph tests, computed by Hugging Face transformers from the SAME GGUF files.

transformers dequantizes every GGUF tensor to fp32 and runs its own llama / gemma3 modelling code (eager
attention, fp32). For each fixed prompt we store, per position: the top-50 token ids and logits, the logits of a
fixed pseudo-random subset of 500 vocabulary ids (the same subset at every position), and the log-sum-exp of the
full logit row (so the tests can compare log-softmax values without the full vocabulary).

Usage: python3 packages/onnx-graph/scripts/make-oracle.py [smollm2|gemma3 ...]
"""
import json
import os
import sys
from pathlib import Path

import numpy as np
import torch
from transformers import AutoModelForCausalLM, AutoTokenizer

CACHE = Path(os.environ.get("QAQ_CACHE_DIR") or Path(os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache") / "qaq")
OUT = Path(__file__).resolve().parent.parent / "fixtures"

MODELS = {
    "smollm2": ("models/smollm2-135m", "SmolLM2-135M-Instruct.Q4_1.gguf"),
    "gemma3": ("models/gemma3-270m", "gemma-3-270m-q4_k_m.gguf"),
}

PROMPTS = [
    "The capital of France is Paris, and the capital of Germany is",
    "def fibonacci(n):\n    if n < 2:\n        return n\n    return",
    "Call me Ishmael. Some years ago, never mind how long precisely, having little or no money in my purse,",
]

TOP_K = 50
SUBSET_SIZE = 500
SUBSET_SEED = 20261128


def main(names: list[str]) -> None:
    torch.manual_seed(0)
    for name in names:
        folder, file_name = MODELS[name]
        directory = CACHE / folder
        if not (directory / file_name).exists():
            print(f"skip {name}: {directory / file_name} missing")
            continue
        tokenizer = AutoTokenizer.from_pretrained(directory, gguf_file=file_name)
        model = AutoModelForCausalLM.from_pretrained(
            directory, gguf_file=file_name, dtype=torch.float32, attn_implementation="eager"
        )
        model.eval()
        vocab = model.config.vocab_size
        subset = np.sort(np.random.RandomState(SUBSET_SEED).choice(vocab, SUBSET_SIZE, replace=False))
        cases = []
        for prompt in PROMPTS:
            ids = tokenizer(prompt, add_special_tokens=True)["input_ids"]
            with torch.no_grad():
                logits = model(torch.tensor([ids])).logits[0].to(torch.float64).numpy()
            positions = []
            for row in logits:
                top = np.argsort(-row, kind="stable")[:TOP_K]
                lse = float(np.log(np.sum(np.exp(row - row.max()))) + row.max())
                positions.append(
                    {
                        "topIds": [int(i) for i in top],
                        "topLogits": [float(f"{row[i]:.7g}") for i in top],
                        "subsetLogits": [float(f"{row[i]:.7g}") for i in subset],
                        "logSumExp": float(f"{lse:.9g}"),
                    }
                )
            cases.append({"prompt": prompt, "tokenIds": [int(i) for i in ids], "positions": positions})
            print(name, len(ids), "tokens; top-1 at last position:", int(np.argmax(logits[-1])))
        fixture = {
            "model": name,
            "ggufFile": f"{folder}/{file_name}",
            "generator": f"transformers {__import__('transformers').__version__}, torch {torch.__version__}, fp32 eager",
            "vocabSize": vocab,
            "subsetIds": [int(i) for i in subset],
            "cases": cases,
        }
        OUT.mkdir(parents=True, exist_ok=True)
        path = OUT / f"oracle-{name}.json"
        path.write_text(json.dumps(fixture, separators=(",", ":")))
        print("wrote", path, path.stat().st_size, "bytes")


if __name__ == "__main__":
    main(sys.argv[1:] or list(MODELS))
