#!/usr/bin/env python3
"""Writes the malformed-input corpus beside this file (any python3; standard library only;
byte-identical on every run).

Each file breaks one rule; tests/corpus/CMakeLists.txt holds the one-line message bnlab must exit
with (code 2) for each, and README.md lists them. The files double as seeds for the fuzz targets.
"""
import gzip
import json
import pathlib
import struct

HERE = pathlib.Path(__file__).resolve().parent


def out(kind, name, data):
    path = HERE / kind / name
    path.parent.mkdir(exist_ok=True)
    path.write_bytes(data)


# --- IDX: magic 00 00 <type> <rank>, big-endian uint32 dimensions, then the bytes -------------------

def idx(dims, data, element_type=0x08, rank=None):
    rank = len(dims) if rank is None else rank
    return bytes([0, 0, element_type, rank]) + b"".join(struct.pack(">I", d) for d in dims) + data


def gz(data):
    return gzip.compress(data, mtime=0)


IMAGES = idx([2, 28, 28], bytes(range(256)) * 6 + bytes(1568 - 1536))  # two valid 28 x 28 images
LABELS = idx([2], bytes([3, 7]))

out("idx", "valid-images", IMAGES)
out("idx", "valid-labels", LABELS)
out("idx", "empty.idx", b"")
out("idx", "bad_magic.idx", b"\x01\x02\x03\x04" + IMAGES[4:])
out("idx", "float_elements.idx", idx([2, 28, 28], bytes(1568), element_type=0x0D))
out("idx", "wrong_rank.idx", idx([56, 28], bytes(1568)))
out("idx", "truncated_header.idx", IMAGES[:10])
out("idx", "truncated_data.idx", IMAGES[:-100])
out("idx", "trailing_data.idx", IMAGES + b"\x00" * 7)
out("idx", "dims_overflow.idx", idx([0xFFFFFFFF, 0xFFFFFFFF, 0xFFFFFFFF], b""))
out("idx", "huge_dims_small_file.idx", idx([60000, 28, 28], bytes(1568)))
out("idx", "corrupt_gzip.idx.gz", b"\x1f\x8b\x08\x00" + bytes(range(60)))
out("idx", "truncated_gzip.idx.gz", gz(IMAGES)[:-30])
out("idx", "gzip_trailing_garbage.idx.gz", gz(IMAGES) + b"garbage")
out("idx", "gzip_header_lies.idx.gz", gz(idx([60000, 28, 28], bytes(1568))))
out("idx", "label_out_of_range.idx", idx([2], bytes([3, 10])))
out("idx", "three_labels.idx", idx([3], bytes([1, 2, 3])))


# --- Model checkpoints: safetensors with the bnlab.model metadata -----------------------------------

def entry(dtype, shape, begin, end):
    return {"dtype": dtype, "shape": shape, "data_offsets": [begin, end]}


def safetensors(header, data, length=None):
    text = json.dumps(header, separators=(",", ":")) if isinstance(header, dict) else header
    raw = text.encode()
    return struct.pack("<Q", len(raw) if length is None else length) + raw + data


# flatten,dense:10:softmax on 2 x 2 inputs: tensors 1.weight (10, 4) and 1.bias (10).
META = {
    "format": "bnlab.model", "format_version": "1", "spec": "flatten,dense:10:softmax",
    "layer_names": '["flatten","dense"]', "input_shape": "[2,2]", "num_classes": "10", "batchnorm": "[]",
    "dataset": "mnist", "divide_by": "255", "input_min": "0", "input_max": "1", "input_mean": "0.13",
}
WEIGHT = entry("F32", [10, 4], 0, 160)
BIAS = entry("F32", [10], 160, 200)
DATA = struct.pack("<50f", *[i / 100 for i in range(50)])


def checkpoint(name, meta=None, tensors=None, data=DATA, **kw):
    header = {"__metadata__": META if meta is None else meta}
    header.update({"1.weight": WEIGHT, "1.bias": BIAS} if tensors is None else tensors)
    out("checkpoints", name, safetensors(header, data, **kw))


def with_meta(**changes):
    m = dict(META)
    m.update(changes)
    return {k: v for k, v in m.items() if v is not None}


checkpoint("valid.safetensors")
out("checkpoints", "too_short.safetensors", b"\x05\x00\x00")
checkpoint("header_past_end.safetensors", length=10_000)
checkpoint("header_over_limit.safetensors", length=1 << 62)
out("checkpoints", "bad_json.safetensors", safetensors('{"1.weight":' + json.dumps(WEIGHT) + ",", DATA))
# Found by fuzz/checkpoint_fuzz.cpp: a number beyond double made the JSON parser throw out_of_range.
out("checkpoints", "number_overflow.safetensors", safetensors('{"__metadata__":{"n":1e999}}', b""))
out("checkpoints", "duplicate_tensor.safetensors",
    safetensors('{"1.weight":%s,"1.weight":%s}' % (json.dumps(WEIGHT), json.dumps(BIAS)), DATA))
checkpoint("overlap.safetensors", tensors={"1.weight": WEIGHT, "1.bias": entry("F32", [10], 120, 160)}, data=DATA[:160])
checkpoint("gap.safetensors", tensors={"1.weight": WEIGHT, "1.bias": entry("F32", [10], 164, 204)},
           data=DATA + bytes(4))
checkpoint("offsets_past_end.safetensors", data=DATA[:180])
checkpoint("unknown_dtype.safetensors", tensors={"1.weight": entry("F8", [10, 4], 0, 40), "1.bias": entry("F32", [10], 40, 80)},
           data=DATA[:80])
checkpoint("shape_mismatch.safetensors", tensors={"1.weight": entry("F32", [10, 5], 0, 160), "1.bias": BIAS})
checkpoint("negative_shape.safetensors", tensors={"1.weight": entry("F32", [-10, -4], 0, 160), "1.bias": BIAS})
checkpoint("metadata_not_string.safetensors", meta=dict(META, num_classes=10))
checkpoint("no_metadata.safetensors", meta={})
checkpoint("not_bnlab.safetensors", meta=with_meta(format="pt"))
checkpoint("future_version.safetensors", meta=with_meta(format_version="2"))
checkpoint("missing_tensor.safetensors", tensors={"1.weight": WEIGHT}, data=DATA[:160])
checkpoint("unexpected_tensor.safetensors", tensors={"1.weight": WEIGHT, "1.bias": BIAS, "2.bias": entry("F32", [1], 200, 204)},
           data=DATA + bytes(4))
checkpoint("wrong_tensor_shape.safetensors", tensors={"1.weight": entry("F32", [4, 10], 0, 160), "1.bias": BIAS})
checkpoint("wrong_tensor_dtype.safetensors", tensors={"1.weight": WEIGHT, "1.bias": entry("I32", [10], 160, 200)})
checkpoint("bad_spec.safetensors", meta=with_meta(spec="flatten,conv:3x3"))
checkpoint("huge_dense.safetensors", meta=with_meta(spec="flatten,dense:16777216:softmax"))
checkpoint("huge_input_shape.safetensors", meta=with_meta(input_shape="[1024,1024,2]"))
checkpoint("input_shape_not_list.safetensors", meta=with_meta(input_shape='{"h":2}'))
checkpoint("layer_names_mismatch.safetensors", meta=with_meta(layer_names='["flatten"]'))
checkpoint("layer_names_bad_json.safetensors", meta=with_meta(layer_names='["flatten",'))
checkpoint("divide_by_not_number.safetensors", meta=with_meta(divide_by="255 apples"))
checkpoint("missing_dataset.safetensors", meta=with_meta(dataset=None))


# --- A training state, seed for the checkpoint fuzz target (fuzz/checkpoint_fuzz.cpp's model:
# dense:3:softmax on 2 features, Adam, 4 training samples in batches of 2) --------------------------

def state_file(tensors, meta):
    header, data = {"__metadata__": meta}, b""
    for name, dtype, shape, raw in tensors:
        header[name] = entry(dtype, shape, len(data), len(data) + len(raw))
        data += raw
    return safetensors(header, data)


def f32(*values):
    return struct.pack(f"<{len(values)}f", *values)


def i64(*values):
    return struct.pack(f"<{len(values)}q", *values)


out("train_states", "valid.safetensors", state_file(
    [("model.0.weight", "F32", [3, 2], f32(0.1, -0.2, 0.3, -0.4, 0.5, -0.6)),
     ("model.0.bias", "F32", [3], f32(0.01, 0.02, 0.03)),
     ("optimizer.m.0", "F32", [3, 2], f32(*[0.001] * 6)),
     ("optimizer.v.0", "F32", [3, 2], f32(*[1e-6] * 6)),
     ("optimizer.m.1", "F32", [3], f32(*[0.002] * 3)),
     ("optimizer.v.1", "F32", [3], f32(*[2e-6] * 3)),
     ("optimizer.iterations", "I64", [], i64(3)),
     ("data.order", "I64", [4], i64(2, 0, 3, 1)),
     ("data.order_rng", "I64", [4], i64(1, 2, 3, 4))],
    {"format": "bnlab.train_state", "format_version": "1", "spec": "dense:3:softmax", "optimizer": "adam",
     "position": '{"epoch":2,"step":1,"total_steps":3,"loss_sum":1.5,"correct":1,"seen":2,"skipped":0,"seconds":0.1}',
     "history": '[{"epoch":1,"steps":2,"skipped":0,"loss":0.9,"accuracy":0.5,"val_loss":null,'
                '"val_accuracy":null,"seconds":0.2}]'}))
