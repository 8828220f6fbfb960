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


# --- .npy arrays and .npz archives (numpy.lib.format; zip members KEY.npy) ---------------------------

def npy(descr, shape, data, fortran=False, version=(1, 0), header=None, length=None):
    """A .npy file as numpy writes it: magic, version, header length, header dict padded to 64 bytes."""
    if header is None:
        shape_text = "(%s)" % (", ".join(str(d) for d in shape) + ("," if len(shape) == 1 else ""))
        header = "{'descr': %s, 'fortran_order': %s, 'shape': %s, }" % (
            descr if descr.startswith("[") else repr(descr), fortran, shape_text)
    preamble = 10 if version[0] == 1 else 12
    text = header + " " * ((64 - (preamble + len(header) + 1) % 64) % 64) + "\n"
    raw = text.encode("latin1")
    n = len(raw) if length is None else length
    size = struct.pack("<H", n) if version[0] == 1 else struct.pack("<I", n)
    return b"\x93NUMPY" + bytes(version) + size + raw + data


def npz(members, compress=False):
    """A zip of the members (name -> bytes), stored or deflated, with fixed timestamps."""
    import io
    import warnings
    import zipfile
    buf = io.BytesIO()
    with warnings.catch_warnings(), zipfile.ZipFile(buf, "w") as z:
        warnings.simplefilter("ignore")  # duplicate_member.npz repeats a name on purpose
        for name, data in members:
            info = zipfile.ZipInfo(name, date_time=(1980, 1, 1, 0, 0, 0))
            info.compress_type = zipfile.ZIP_DEFLATED if compress else zipfile.ZIP_STORED
            z.writestr(info, data)
    return buf.getvalue()


# A valid set: 12 training and 3 test images of 4 x 4 (uint8), labels int64 in 0..2.
X_TRAIN = npy("|u1", [12, 4, 4], bytes(range(192)))
Y_TRAIN = npy("<i8", [12], i64(*[i % 3 for i in range(12)]))
X_TEST = npy("|u1", [3, 4, 4], bytes(range(48)))
Y_TEST = npy("<i8", [3], i64(0, 1, 2))


def npz_with(compress=False, **changes):
    members = {"x_train": X_TRAIN, "y_train": Y_TRAIN, "x_test": X_TEST, "y_test": Y_TEST}
    members.update(changes)
    return npz([(k + ".npy", v) for k, v in members.items() if v is not None], compress)


def npz_case(name, **changes):
    out("npz", name + ".npz", npz_with(**changes))
    for key, member in changes.items():  # each broken member alone seeds fuzz/npy_fuzz.cpp
        if member is not None:
            out("npy", f"{name}.{key}.npy", member)


out("npz", "valid.npz", npz_with())
out("npz", "valid_deflated.npz", npz_with(compress=True))
for key, member in [("x_train", X_TRAIN), ("y_train", Y_TRAIN)]:
    out("npy", f"valid.{key}.npy", member)
out("npy", "valid.x_float.npy", npy("<f4", [2, 2], f32(0.5, -1.0, 2.0, 3.25)))
out("npy", "valid.v2.npy", npy("<u2", [3], struct.pack("<3H", 1, 2, 3), version=(2, 0)))
out("npy", "valid.v3.npy", npy("<i4", [2, 1], struct.pack("<2i", 5, 6), version=(3, 0)))

out("npz", "not_a_zip.npz", b"this is not a zip archive at all\n")
out("npz", "truncated_zip.npz", npz_with()[:300])
deflated = bytearray(npz_with(compress=True, x_train=npy("|u1", [12, 4, 4], bytes(range(192)) * 1)))
deflated[80:90] = b"\xff" * 10  # inside x_train.npy's deflate stream
out("npz", "corrupt_deflate.npz", bytes(deflated))
npz_case("missing_key", y_test=None)
npz_case("bad_magic", x_train=b"NOTNUMPY" + X_TRAIN[8:])
npz_case("bad_version", x_train=b"\x93NUMPY\x04\x00" + X_TRAIN[8:])
npz_case("header_unterminated", x_train=npy("|u1", [12, 4, 4], bytes(192))[:-192 - 1] + b" " + bytes(192))
npz_case("header_oversized", x_train=npy("|u1", [12, 4, 4], bytes(192), version=(2, 0), length=0xFFFFFFFF))
npz_case("header_truncated", x_train=npy("|u1", [12, 4, 4], b"", length=1000))
npz_case("header_not_a_dict", x_train=npy("|u1", [], bytes(192), header="['descr', '|u1']"))
npz_case("header_missing_shape", x_train=npy("|u1", [], bytes(192), header="{'descr': '|u1', 'fortran_order': False}"))
npz_case("header_unknown_key", x_train=npy("|u1", [], bytes(192),
                                             header="{'descr': '|u1', 'fortran_order': False, 'shape': (12, 4, 4), 'x': True}"))
npz_case("dtype_complex", x_train=npy("<c8", [12, 4, 4], bytes(12 * 16 * 8)))
npz_case("dtype_object", x_train=npy("|O", [12, 4, 4], bytes(12 * 16 * 8)))
npz_case("dtype_structured", x_train=npy("[('a', '<f4')]", [12, 4, 4], bytes(12 * 16 * 4)))
npz_case("big_endian", x_train=npy(">f4", [12, 4, 4], bytes(12 * 16 * 4)))
npz_case("fortran_order", x_train=npy("|u1", [12, 4, 4], bytes(192), fortran=True))
npz_case("shape_overflow", x_train=npy("<f4", [2 ** 62, 2 ** 62, 4], b""))
npz_case("shape_size_overflow", x_train=npy("|u1", [], b"", header="{'descr': '|u1', 'fortran_order': False, 'shape': (99999999999999999999, 4), }"))
npz_case("shape_lies", x_train=npy("|u1", [60000, 28, 28], bytes(192)))
npz_case("trailing_data", x_train=X_TRAIN + b"extra")
npz_case("count_mismatch", y_train=npy("<i8", [11], i64(*[0] * 11)))
npz_case("negative_label", y_train=npy("<i8", [12], i64(*[0] * 11, -1)))
npz_case("huge_label", y_train=npy("<i4", [12], struct.pack("<12i", *[0] * 11, 1000000)))
npz_case("float_labels", y_train=npy("<f4", [12], f32(*[0.0] * 12)))
npz_case("labels_2d", y_train=npy("|u1", [6, 2], bytes(12)))
npz_case("images_int64", x_train=npy("<i8", [12, 4, 4], bytes(12 * 16 * 8)))
npz_case("images_rank2", x_train=npy("|u1", [12, 16], bytes(192)))
npz_case("images_no_pixels", x_train=npy("|u1", [12, 0, 4], b""))
npz_case("nan_pixels", x_train=npy("<f4", [12, 4, 4], f32(*[0.0] * 191, float("nan"))),
         x_test=npy("<f4", [3, 4, 4], f32(*[0.0] * 48)))
npz_case("train_test_shapes", x_test=npy("|u1", [3, 5, 5], bytes(75)))
npz_case("train_test_dtypes", x_test=npy("<f4", [3, 4, 4], f32(*[0.0] * 48)))
npz_case("empty_train", x_train=npy("|u1", [0, 4, 4], b""), y_train=npy("<i8", [0], b""))
npz_case("empty_test", x_test=npy("|u1", [0, 4, 4], b""), y_test=npy("<i8", [0], b""))
npz_case("thirteen_classes", y_train=npy("<i8", [12], i64(*[i % 3 for i in range(11)], 12)))
npz_case("one_training_image", x_train=npy("|u1", [1, 4, 4], bytes(16)), y_train=npy("<i8", [1], i64(0)))
out("npz", "duplicate_member.npz", npz([(k + ".npy", v) for k, v in [("x_train", X_TRAIN), ("y_train", Y_TRAIN),
                                                                     ("x_test", X_TEST), ("y_test", Y_TEST),
                                                                     ("y_test", Y_TEST)]]))
