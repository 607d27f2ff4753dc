#!/usr/bin/env python3
"""Writes an installed BERT-family embedder as an ONNX graph, for measuring ONNX Runtime against
libtorch behind lede's Embedder trait (issue 5; `cargo bench --features onnx --bench backends`).

    python3 benches/onnx_export.py models/installed/multilingual-e5-small [OUT.onnx]

Needs `onnx`, `numpy` and `safetensors` from PyPI (no torch: the graph is written directly from the
safetensors weights). Input `input_ids` [batch, seq] (int64), output `last_hidden_state` [batch, seq,
hidden]. No attention mask: lede's forward passes hold windows of one length, never padding. Token
type 0 everywhere, positions 0..seq. Attention, the bias+GELU and the residual+LayerNorm pairs are
ONNX Runtime's fused CPU ops (com.microsoft Attention, BiasGelu, SkipLayerNormalization): the graph
its own transformer optimizer makes from an exported BERT.
"""
import json
import sys
from pathlib import Path

import numpy as np
import onnx
from onnx import TensorProto, helper, numpy_helper
from safetensors.numpy import load_file


def main():
    folder = Path(sys.argv[1])
    out = Path(sys.argv[2]) if len(sys.argv) > 2 else folder / "model.onnx"
    config = json.loads((folder / "config.json").read_text())
    if config.get("hidden_act", "gelu") != "gelu":
        sys.exit(f"{folder}: hidden_act {config['hidden_act']!r}, only exact 'gelu' is written")
    w = load_file(str(folder / "model.safetensors"))
    prefix = "bert." if "bert.embeddings.word_embeddings.weight" in w else ""
    hidden = config["hidden_size"]
    heads = config["num_attention_heads"]
    eps = float(config.get("layer_norm_eps", 1e-12))

    inits, nodes = [], []

    def const(name, array):
        inits.append(numpy_helper.from_array(np.ascontiguousarray(array), name))
        return name

    def get(key):
        return w[prefix + key].astype(np.float32)

    ms = "com.microsoft"
    # Embeddings: word + position + token type 0, then LayerNorm.
    word = const("word_embeddings", get("embeddings.word_embeddings.weight"))
    pos_type = const(
        "position_plus_type0",
        get("embeddings.position_embeddings.weight") + get("embeddings.token_type_embeddings.weight")[0],
    )
    const("zero", np.array([0], dtype=np.int64))
    const("one", np.array([1], dtype=np.int64))
    const("two", np.array([2], dtype=np.int64))
    nodes += [
        helper.make_node("Gather", [word, "input_ids"], ["word"]),
        helper.make_node("Shape", ["input_ids"], ["ids_shape"]),
        helper.make_node("Slice", ["ids_shape", "one", "two"], ["seq_len"]),
        helper.make_node("Slice", [pos_type, "zero", "seq_len"], ["positions"]),
        helper.make_node("Add", ["word", "positions"], ["embedded"]),
        helper.make_node(
            "LayerNormalization",
            ["embedded", const("emb_ln_g", get("embeddings.LayerNorm.weight")),
             const("emb_ln_b", get("embeddings.LayerNorm.bias"))],
            ["x0"], axis=-1, epsilon=eps,
        ),
    ]
    x = "x0"
    for i in range(config["num_hidden_layers"]):
        p = f"encoder.layer.{i}."
        qkv_w = np.concatenate(
            [get(p + f"attention.self.{n}.weight").T for n in ("query", "key", "value")], axis=1
        )
        qkv_b = np.concatenate([get(p + f"attention.self.{n}.bias") for n in ("query", "key", "value")])
        nodes.append(helper.make_node(
            "Attention", [x, const(f"l{i}_qkv_w", qkv_w), const(f"l{i}_qkv_b", qkv_b)],
            [f"l{i}_ctx"], domain=ms, num_heads=heads,
        ))
        nodes.append(helper.make_node(
            "MatMul", [f"l{i}_ctx", const(f"l{i}_ao_w", get(p + "attention.output.dense.weight").T)],
            [f"l{i}_ao"],
        ))
        nodes.append(helper.make_node(
            "SkipLayerNormalization",
            [f"l{i}_ao", x, const(f"l{i}_ln1_g", get(p + "attention.output.LayerNorm.weight")),
             const(f"l{i}_ln1_b", get(p + "attention.output.LayerNorm.bias")),
             const(f"l{i}_ao_b", get(p + "attention.output.dense.bias"))],
            [f"l{i}_h"], domain=ms, epsilon=eps,
        ))
        nodes.append(helper.make_node(
            "MatMul", [f"l{i}_h", const(f"l{i}_in_w", get(p + "intermediate.dense.weight").T)],
            [f"l{i}_in"],
        ))
        nodes.append(helper.make_node(
            "BiasGelu", [f"l{i}_in", const(f"l{i}_in_b", get(p + "intermediate.dense.bias"))],
            [f"l{i}_act"], domain=ms,
        ))
        nodes.append(helper.make_node(
            "MatMul", [f"l{i}_act", const(f"l{i}_out_w", get(p + "output.dense.weight").T)],
            [f"l{i}_out"],
        ))
        last = i == config["num_hidden_layers"] - 1
        x_next = "last_hidden_state" if last else f"x{i + 1}"
        nodes.append(helper.make_node(
            "SkipLayerNormalization",
            [f"l{i}_out", f"l{i}_h", const(f"l{i}_ln2_g", get(p + "output.LayerNorm.weight")),
             const(f"l{i}_ln2_b", get(p + "output.LayerNorm.bias")),
             const(f"l{i}_out_b", get(p + "output.dense.bias"))],
            [x_next], domain=ms, epsilon=eps,
        ))
        x = x_next

    graph = helper.make_graph(
        nodes, "bert_encoder",
        [helper.make_tensor_value_info("input_ids", TensorProto.INT64, ["batch", "seq"])],
        [helper.make_tensor_value_info("last_hidden_state", TensorProto.FLOAT, ["batch", "seq", hidden])],
        inits,
    )
    model = helper.make_model(
        graph, opset_imports=[helper.make_opsetid("", 17), helper.make_opsetid(ms, 1)],
        producer_name="lede benches/onnx_export.py",
    )
    model.ir_version = 8
    onnx.checker.check_model(model, full_check=False)
    onnx.save(model, str(out))
    print(f"wrote {out} ({out.stat().st_size / 1e6:.1f} MB)")


if __name__ == "__main__":
    main()
