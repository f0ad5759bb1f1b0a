#!/usr/bin/env python3
"""Generates the reference fixtures of @qaq/gguf from PyPI `gguf` (gguf-py, the llama.cpp reader).

Run from the repository root:  python3 packages/gguf/scripts/make-fixtures.py

Writes into packages/gguf/fixtures/:
- <model>-header.json: every metadata key (value type, scalar value or array length + first elements),
  alignment, data offset and every tensor's name / type / dimensions / offset, as gguf.GGUFReader sees them.
- <model>-blocks.json: for up to 3 tensors of each type in the model, 1024 elements from the middle of the
  tensor: the raw block bytes and gguf.quants.dequantize's float32 output (base64, little-endian).
- <model>-seed.gguf: the model's real header (metadata + tensor infos, byte for byte) with every metadata array
  cut to its first 64 elements: a small, realistic seed for the fuzz tests (no tensor data).
- tensor-types.json: gguf-py's GGML_QUANT_SIZES (type id, block elements, block bytes) for every type.
- synthetic.gguf + synthetic-blocks.json: a tiny GGUF written by gguf.GGUFWriter with one tensor for each type
  the models lack (F16, BF16, Q4_0, Q5_1 quantized by gguf.quants; Q5_K and Q8_K as crafted random blocks),
  and the reference dequantization (gguf.quants.dequantize; Q8_K, which gguf-py cannot dequantize, by the
  one-line numpy formula d * q of ggml's dequantize_row_q8_K).
"""
from __future__ import annotations

import base64
import json
import os
import struct
from pathlib import Path

import numpy as np
import gguf
from gguf import GGMLQuantizationType as T
from gguf import quants

HERE = Path(__file__).resolve().parent
FIXTURES = HERE.parent / "fixtures"
CACHE = Path(os.environ.get("QAQ_CACHE_DIR") or Path(os.environ.get("XDG_CACHE_HOME", Path.home() / ".cache")) / "qaq")
MODELS = {
    "smollm2": CACHE / "models/smollm2-135m/SmolLM2-135M-Instruct.Q4_1.gguf",
    "gemma3": CACHE / "models/gemma3-270m/gemma-3-270m-q4_k_m.gguf",
}
SAMPLE_ELEMENTS = 1024
SEED_ARRAY_LENGTH = 64
FIRST_ELEMENTS = 8


def b64(data: bytes) -> str:
    return base64.b64encode(data).decode("ascii")


def jsonable(value):
    if isinstance(value, (bytes, bytearray, np.ndarray)) and getattr(value, "dtype", None) == np.uint8:
        return bytes(value).decode("utf-8")
    if isinstance(value, np.generic):
        value = value.item()
    if isinstance(value, int) and abs(value) > 2**53 - 1:
        return str(value)
    return value


def field_value(field, index):
    """One element (or the scalar) of a ReaderField, as JSON."""
    part = field.parts[field.data[index]]
    if field.types[-1] == gguf.GGUFValueType.STRING:
        return bytes(part).decode("utf-8")
    return jsonable(part[0])


def header_fixture(reader: gguf.GGUFReader) -> dict:
    metadata = {}
    for key, field in reader.fields.items():
        if key.startswith("GGUF."):
            continue
        entry = {"type": int(field.types[0])}
        if field.types[0] == gguf.GGUFValueType.ARRAY:
            entry["elementType"] = int(field.types[1])
            entry["length"] = len(field.data)
            entry["first"] = [field_value(field, i) for i in range(min(FIRST_ELEMENTS, len(field.data)))]
            entry["last"] = field_value(field, len(field.data) - 1) if field.data else None
        else:
            entry["value"] = field_value(field, 0)
        metadata[key] = entry
    tensors = [
        {
            "name": t.name,
            "type": int(t.tensor_type),
            "typeName": t.tensor_type.name,
            "dimensions": [int(d) for d in t.shape],
            "elementCount": int(t.n_elements),
            "byteOffset": int(t.data_offset),
            "byteLength": int(t.n_bytes),
        }
        for t in reader.tensors
    ]
    return {
        "generator": f"gguf-py {gguf.__name__} GGUFReader",
        "version": int(reader.fields["GGUF.version"].parts[0][0]),
        "alignment": int(reader.alignment),
        "dataOffset": int(reader.data_offset),
        "metadata": metadata,
        "tensors": tensors,
    }


def raw_tensor_bytes(t) -> np.ndarray:
    return np.ascontiguousarray(t.data).view(np.uint8).reshape(-1)


def block_fixture(reader: gguf.GGUFReader) -> list[dict]:
    by_type: dict[int, list] = {}
    for t in reader.tensors:
        by_type.setdefault(int(t.tensor_type), []).append(t)
    entries = []
    for type_id, tensors in sorted(by_type.items()):
        picks = sorted({0, len(tensors) // 2, len(tensors) - 1})
        for pick in picks:
            t = tensors[pick]
            block_elements, block_bytes = gguf.GGML_QUANT_SIZES[t.tensor_type]
            total_blocks = int(t.n_elements) // block_elements
            count_blocks = min(total_blocks, SAMPLE_ELEMENTS // block_elements)
            first_block = (total_blocks - count_blocks) // 2
            raw = raw_tensor_bytes(t)[first_block * block_bytes:(first_block + count_blocks) * block_bytes]
            expected = quants.dequantize(raw.copy(), t.tensor_type).astype("<f4").reshape(-1)
            entries.append({
                "tensor": t.name,
                "type": type_id,
                "typeName": t.tensor_type.name,
                "elementOffset": first_block * block_elements,
                "elementCount": count_blocks * block_elements,
                "raw": b64(raw.tobytes()),
                "expected": b64(expected.tobytes()),
            })
    return entries


def seed_header(reader: gguf.GGUFReader) -> bytes:
    """The real header with metadata arrays cut to SEED_ARRAY_LENGTH elements."""
    out = bytearray()
    out += b"GGUF"
    out += struct.pack("<I", int(reader.fields["GGUF.version"].parts[0][0]))
    out += struct.pack("<Q", len(reader.tensors))
    keys = [k for k in reader.fields if not k.startswith("GGUF.")]
    out += struct.pack("<Q", len(keys))
    for key in keys:
        field = reader.fields[key]
        parts = field.parts
        if field.types[0] == gguf.GGUFValueType.ARRAY and len(field.data) > SEED_ARRAY_LENGTH:
            is_string = field.types[-1] == gguf.GGUFValueType.STRING
            cut = field.data[SEED_ARRAY_LENGTH] - (1 if is_string else 0)
            parts = list(parts[:4]) + [np.array([SEED_ARRAY_LENGTH], dtype="<u8")] + list(parts[5:cut])
        for part in parts:
            out += part.tobytes()
    for t in reader.tensors:
        for part in t.field.parts:
            out += part.tobytes()
    return bytes(out)


def random_finite_halves(rng: np.random.Generator, count: int, scale: float) -> np.ndarray:
    return (rng.standard_normal(count) * scale).astype(np.float16)


def crafted_q5_k(rng: np.random.Generator, blocks: int) -> np.ndarray:
    raw = rng.integers(0, 256, size=(blocks, 176), dtype=np.uint8)
    raw[:, 0:2] = random_finite_halves(rng, blocks, 0.01).view(np.uint8).reshape(blocks, 2)
    raw[:, 2:4] = np.abs(random_finite_halves(rng, blocks, 0.01)).view(np.uint8).reshape(blocks, 2)
    return raw


def crafted_q8_k(rng: np.random.Generator, blocks: int) -> np.ndarray:
    raw = np.zeros((blocks, 292), dtype=np.uint8)
    d = (rng.standard_normal(blocks) * 0.01).astype("<f4")
    q = rng.integers(-128, 128, size=(blocks, 256)).astype(np.int8)
    raw[:, 0:4] = d.view(np.uint8).reshape(blocks, 4)
    raw[:, 4:260] = q.view(np.uint8)
    raw[:, 260:292] = q.reshape(blocks, 16, 16).sum(axis=2).astype("<i2").view(np.uint8).reshape(blocks, 32)
    return raw


def reference_q8_k(raw: np.ndarray) -> np.ndarray:
    d = raw[:, 0:4].copy().view("<f4")
    q = raw[:, 4:260].copy().view(np.int8).astype(np.float32)
    return (d * q).astype("<f4")


def synthetic(rng: np.random.Generator) -> tuple[bytes, list[dict]]:
    rows, columns = 4, 256
    weights = rng.standard_normal((rows, columns)).astype(np.float32) * 0.05
    tensors = []
    for qtype in (T.F16, T.BF16, T.Q4_0, T.Q5_1):
        tensors.append((f"synthetic.{qtype.name.lower()}", qtype, quants.quantize(weights, qtype)))
    tensors.append(("synthetic.q5_k", T.Q5_K, crafted_q5_k(rng, rows)))
    tensors.append(("synthetic.q8_k", T.Q8_K, crafted_q8_k(rng, rows)))

    path = FIXTURES / "synthetic.gguf"
    writer = gguf.GGUFWriter(path, "synthetic")
    writer.add_string("synthetic.note", "written by packages/gguf/scripts/make-fixtures.py")
    writer.add_uint64("synthetic.uint64", 2**40 + 3)
    writer.add_int64("synthetic.int64", -(2**40))
    writer.add_float64("synthetic.float64", 0.1)
    writer.add_bool("synthetic.bool", True)
    writer.add_array("synthetic.bools", [True, False, True])
    writer.add_array("synthetic.strings", ["a", "é", "🙂"])
    writer.add_key_value("synthetic.uint64s", [1, 2, 2**40], gguf.GGUFValueType.ARRAY, gguf.GGUFValueType.UINT64)
    entries = []
    for name, qtype, data in tensors:
        raw = np.ascontiguousarray(data).view(np.uint8).reshape(rows, -1)
        writer.add_tensor(name, raw, raw_dtype=qtype)
        expected = reference_q8_k(raw) if qtype == T.Q8_K else quants.dequantize(raw.copy(), qtype)
        entries.append({
            "tensor": name,
            "type": int(qtype),
            "typeName": qtype.name,
            "elementOffset": 0,
            "elementCount": rows * columns,
            "raw": b64(raw.tobytes()),
            "expected": b64(np.asarray(expected, dtype="<f4").reshape(-1).tobytes()),
        })
    writer.write_header_to_file()
    writer.write_kv_data_to_file()
    writer.write_tensors_to_file()
    writer.close()
    return path.read_bytes(), entries


def main() -> None:
    FIXTURES.mkdir(exist_ok=True)
    for model, path in MODELS.items():
        if not path.exists():
            print(f"skip {model}: {path} is missing")
            continue
        reader = gguf.GGUFReader(path)
        (FIXTURES / f"{model}-header.json").write_text(json.dumps(header_fixture(reader), ensure_ascii=False) + "\n")
        (FIXTURES / f"{model}-blocks.json").write_text(json.dumps({"model": path.name, "entries": block_fixture(reader)}) + "\n")
        (FIXTURES / f"{model}-seed.gguf").write_bytes(seed_header(reader))
        print(f"wrote {model} fixtures")
    sizes = {t.name: {"id": int(t), "blockElementCount": s[0], "blockByteLength": s[1]} for t, s in gguf.GGML_QUANT_SIZES.items()}
    (FIXTURES / "tensor-types.json").write_text(json.dumps(sizes, indent=1) + "\n")
    _, entries = synthetic(np.random.default_rng(20261128))
    (FIXTURES / "synthetic-blocks.json").write_text(json.dumps({"model": "synthetic.gguf", "entries": entries}) + "\n")
    print("wrote synthetic fixtures")


if __name__ == "__main__":
    main()
