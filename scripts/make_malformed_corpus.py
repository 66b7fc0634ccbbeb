#!/usr/bin/python3
"""Makes the malformed-file corpus under tests/data/malformed/ (run once; the files are committed).

Every file is something kiln must refuse: each reader's list of hostile inputs (wrong magic,
truncation, sizes that overflow, header lengths past the end or 2^63, offsets out of range or
overlapping, shape x dtype != bytes, unknown / big-endian / object / structured dtypes, duplicate
names, non-numeric CSV cells, ragged rows, empty files, corrupt zip and gzip streams, ...).
expected.tsv pairs each file with the problem its one-line error must name; tests/io/
malformed_test.cpp reads them through the library and tests/io/inspect_corpus.cmake through
kiln-inspect (exit code 1, "error: <file>: <problem>").

Only the Python standard library; the output is deterministic (fixed zip and gzip timestamps).
Usage: scripts/make_malformed_corpus.py
"""
import gzip, io, json, os, struct, warnings, zipfile

warnings.filterwarnings("ignore", "Duplicate name")  # npz-duplicate.npz, on purpose

HERE = os.path.dirname(os.path.abspath(__file__))
OUT = os.path.join(HERE, "..", "tests", "data", "malformed")
cases = []  # (file name, expected problem)


def put(name, data, problem):
    with open(os.path.join(OUT, name), "wb") as f:
        f.write(data)
    assert "\t" not in problem and "\n" not in problem
    cases.append((name, problem))


F32_12 = struct.pack("<12f", *range(12))  # a 3x4 F32 tensor


# --- safetensors -------------------------------------------------------------------------------
def st(header, data=F32_12, length=None):
    text = header if isinstance(header, (str, bytes)) else json.dumps(header, separators=(",", ":"))
    text = text.encode() if isinstance(text, str) else text
    return struct.pack("<Q", len(text) if length is None else length) + text + data


def entry(dtype="F32", shape=(3, 4), offsets=(0, 48)):
    return {"dtype": dtype, "shape": list(shape), "data_offsets": list(offsets)}


put("empty.safetensors", b"", "the file is empty")
put("st-short.safetensors", b"\x10\x00\x00\x00\x00", "truncated: the header length needs 8 bytes at byte 0, the file has 5")
put("st-header-2pow63.safetensors", st({"a": entry()}, length=1 << 63), "header length 9223372036854775808 exceeds the 100 MB limit")
put("st-header-2pow64-1.safetensors", st({"a": entry()}, length=(1 << 64) - 1), "exceeds the 100 MB limit")
put("st-header-past-end.safetensors", st({"a": entry()}, length=4096), "truncated: the header needs 4096 bytes")
put("st-header-zero.safetensors", st("", length=0), "malformed JSON header")
put("st-bad-json.safetensors", st('{"a": {"dtype": "F32",'), "malformed JSON header")
put("st-not-object.safetensors", st("[1, 2, 3]", b""), "malformed header: not a JSON object")
put("st-deep-shape.safetensors", st('{"a":{"dtype":"F32","shape":[[[3]]],"data_offsets":[0,12]}}'), "nested deeper than a safetensors header")
put("st-deep-array.safetensors", st("[" * 5000 + "]" * 5000, b""), "nested deeper than a safetensors header")
put("st-unknown-dtype.safetensors", st({"a": entry("C64")}), "dtype C64 is not supported")
put("st-fp8-dtype.safetensors", st({"a": entry("F8_E4M3", (12,), (0, 12))}, F32_12[:12]), "dtype F8_E4M3 is not supported")
put("st-negative-dim.safetensors", st({"a": entry(shape=(-3, 4))}), "a dimension is not a non-negative integer")
put("st-fraction-dim.safetensors", st({"a": entry(shape=(2.5, 4))}), "a dimension is not a non-negative integer")
put("st-overflow-shape.safetensors", st({"a": entry(shape=(1 << 32, 1 << 32, 4))}), "shape 4294967296x4294967296x4 overflows")
put("st-shape-bytes.safetensors", st({"a": entry(offsets=(0, 40))}, F32_12[:40]), "hold 40 bytes, shape 3x4 of F32 needs 48")
put("st-dtype-bytes.safetensors", st({"a": entry("F64")}), "hold 48 bytes, shape 3x4 of F64 needs 96")
put("st-offsets-reversed.safetensors", st({"a": entry(offsets=(48, 0))}), "data_offsets [48, 0] end before they begin")
put("st-offsets-past-end.safetensors", st({"a": entry()}, F32_12[:8]), "truncated: the tensors' data needs 48 bytes at byte 65, the file has 73")
put("st-offsets-2pow63.safetensors", st({"a": entry(offsets=(1 << 63, (1 << 63) + 48))}), "data_offsets start at 9223372036854775808, leaving a gap (expected 0)")
put("st-offsets-wrap.safetensors", st({"a": entry(offsets=((1 << 64) - 16, 32))}), "end before they begin")
put("st-overlap.safetensors", st({"a": entry(), "b": entry(shape=(3,), offsets=(40, 52))}, F32_12 + F32_12[:4]), "tensor 'b': data_offsets start at 40, overlapping the tensor before it (expected 48)")
put("st-gap.safetensors", st({"a": entry(shape=(3,), offsets=(0, 12)), "b": entry(shape=(3,), offsets=(16, 28))}, F32_12[:28]), "tensor 'b': data_offsets start at 16, leaving a gap (expected 12)")
put("st-trailing.safetensors", st({"a": entry()}, F32_12 + b"\0\0\0\0"), "trailing data: 4 bytes after the last tensor")
put("st-truncated-data.safetensors", st({"a": entry()}, F32_12[:20]), "truncated: the tensors' data needs 48 bytes at byte 65, the file has 85")
put("st-duplicate-name.safetensors", st('{"a":%s,"a":%s}' % (json.dumps(entry()), json.dumps(entry(offsets=(48, 96)))), F32_12 * 2), "the tensor name 'a' appears twice")
put("st-duplicate-key.safetensors", st('{"a":{"dtype":"F64","dtype":"F32","shape":[3,4],"data_offsets":[0,48]}}'), "the key 'dtype' appears twice")
put("st-duplicate-metadata.safetensors", st('{"__metadata__":{"k":"1"},"__metadata__":{"k":"2"},"a":%s}' % json.dumps(entry())), "the tensor name '__metadata__' appears twice")
put("st-metadata-not-string.safetensors", st({"__metadata__": {"epoch": 3}, "a": entry()}), "__metadata__ value of 'epoch' is not a string")
put("st-metadata-not-object.safetensors", st({"__metadata__": "x", "a": entry()}), "__metadata__ is not a JSON object")
put("st-no-dtype.safetensors", st({"a": {"shape": [3, 4], "data_offsets": [0, 48]}}), "tensor 'a': no dtype")
put("st-no-shape.safetensors", st({"a": {"dtype": "F32", "data_offsets": [0, 48]}}), "tensor 'a': no shape")
put("st-no-offsets.safetensors", st({"a": {"dtype": "F32", "shape": [3, 4]}}), "tensor 'a': data_offsets is not a pair [begin, end]")
put("st-offsets-triple.safetensors", st({"a": entry(offsets=(0, 24, 48))}), "data_offsets is not a pair [begin, end]")
put("st-entry-not-object.safetensors", st({"a": [1, 2]}), "tensor 'a': its header entry is not a JSON object")
put("st-control-name.safetensors", st({"a\nb\x1b": entry("X")}), "tensor 'a\\x0Ab\\x1B': dtype X is not supported")
put("st-binary-header.safetensors", st(b"\xff\xfe\x00garbage"), "malformed JSON header")


# --- kiln checkpoints (safetensors + __metadata__) --------------------------------------------
def ckpt(**changes):
    meta = {
        "kiln.checkpoint": "1", "kiln.fingerprint": "", "kiln.steps": "7", "kiln.rng": "0" * 63 + "1",
        "kiln.epoch": "1", "kiln.batch_in_epoch": "2", "kiln.epoch_loss_sum": "0x1.8p+1",
        "kiln.epoch_correct": "5", "kiln.epoch_seen": "16", "kiln.epoch_seconds": "0x1p-3",
        "kiln.seed": "3", "kiln.batch": "8",
    }
    for k, v in changes.items():
        key = "kiln." + k
        if v is None:
            del meta[key]
        else:
            meta[key] = v
    return st({"__metadata__": meta, "fc.weight": entry(), "fc.bias": entry(shape=(3,), offsets=(48, 60))}, F32_12 + F32_12[:12])


put("ckpt-version-2.safetensors", ckpt(checkpoint="2"), "checkpoint metadata 'kiln.checkpoint': version 2 is not supported (expected 1)")
put("ckpt-no-seed.safetensors", ckpt(seed=None), "checkpoint metadata 'kiln.seed': missing")
put("ckpt-no-rng.safetensors", ckpt(rng=None), "checkpoint metadata 'kiln.rng': missing")
put("ckpt-negative-steps.safetensors", ckpt(steps="-1"), "checkpoint metadata 'kiln.steps': '-1' is not a non-negative integer")
put("ckpt-space-steps.safetensors", ckpt(steps=" 7"), "checkpoint metadata 'kiln.steps': ' 7' is not a non-negative integer")
put("ckpt-plus-seed.safetensors", ckpt(seed="+3"), "checkpoint metadata 'kiln.seed': '+3' is not a non-negative integer")
put("ckpt-steps-overflow.safetensors", ckpt(steps="99999999999999999999999"), "'99999999999999999999999' is not a non-negative integer")
put("ckpt-steps-range.safetensors", ckpt(steps="9223372036854775807"), "checkpoint metadata 'kiln.steps': value 9223372036854775807 is out of range")
put("ckpt-epoch-range.safetensors", ckpt(epoch="4294967296"), "checkpoint metadata 'kiln.epoch': value 4294967296 is out of range")
put("ckpt-rng-short.safetensors", ckpt(rng="0" * 32), "checkpoint metadata 'kiln.rng': expected 64 hex digits")
put("ckpt-rng-not-hex.safetensors", ckpt(rng="g" + "0" * 63), "checkpoint metadata 'kiln.rng': expected 64 hex digits")
put("ckpt-rng-sign.safetensors", ckpt(rng="-" + "0" * 15 + "0" * 48), "checkpoint metadata 'kiln.rng': expected 64 hex digits")
put("ckpt-loss-text.safetensors", ckpt(epoch_loss_sum="abc"), "checkpoint metadata 'kiln.epoch_loss_sum': 'abc' is not a number")
put("ckpt-loss-suffix.safetensors", ckpt(epoch_loss_sum="1.5x"), "'1.5x' is not a number")
put("ckpt-batch-zero.safetensors", ckpt(batch="0"), "checkpoint metadata 'kiln.batch': must be at least 1")
put("ckpt-nul-seed.safetensors", ckpt(seed="3\u0000"), "'3\\x00' is not a non-negative integer")
put("ckpt-truncated.safetensors", ckpt()[:-10], "truncated: the tensors' data needs 60 bytes at byte 477, the file has 527")
put("ckpt-schedule-missing.safetensors", ckpt(**{"schedule.count": "5", "schedule.0": "0x1p+0"}), "checkpoint metadata 'kiln.schedule.1': missing")
put("ckpt-schedule-text.safetensors", ckpt(**{"schedule.count": "1", "schedule.0": "one"}), "checkpoint metadata 'kiln.schedule.0': 'one' is not a number")
put("ckpt-schedule-count.safetensors", ckpt(**{"schedule.count": "1000000000"}), "checkpoint metadata 'kiln.schedule.count': value 1000000000 is out of range")
put("ckpt-fault-lr-zero.safetensors", ckpt(fault_lr="0x0p+0"), "checkpoint metadata 'kiln.fault_lr': must be in (0, 1]")
put("ckpt-fault-lr-nan.safetensors", ckpt(fault_lr="nan"), "checkpoint metadata 'kiln.fault_lr': must be in (0, 1]")
put("ckpt-skipped-negative.safetensors", ckpt(epoch_skipped="-2"), "checkpoint metadata 'kiln.epoch_skipped': '-2' is not a non-negative integer")


# --- .npy --------------------------------------------------------------------------------------
def npy(header, data=F32_12, major=1, length=None):
    text = header.encode() if isinstance(header, str) else header
    text += b" " * ((64 - (len(text) + 11) % 64) % 64) + b"\n"
    if major == 1:
        head = b"\x93NUMPY\x01\x00" + struct.pack("<H", len(text) if length is None else length)
    else:
        head = b"\x93NUMPY" + bytes([major, 0]) + struct.pack("<I", len(text) if length is None else length)
    return head + text + data


def d(descr="'<f4'", order="False", shape="(3, 4)"):
    return "{'descr': %s, 'fortran_order': %s, 'shape': %s, }" % (descr, order, shape)


put("empty.npy", b"", "the file is empty")
put("npy-bad-magic.npy", b"\x93NUMPX" + npy(d())[6:], "not a .npy file (no \\x93NUMPY magic)")
put("npy-truncated-preamble.npy", npy(d())[:9], "truncated: the header length needs 2 bytes at byte 8, the file has 9")
put("npy-truncated-preamble-v2.npy", npy(d(), major=2)[:11], "truncated: the header length needs 4 bytes at byte 8, the file has 11")
put("npy-version-4.npy", b"\x93NUMPY\x04\x00" + npy(d())[8:], "unsupported .npy version 4.0")
put("npy-header-past-end.npy", npy(d(), length=0xFFFF), "truncated: the header needs 65535 bytes")
put("npy-header-past-end-v2.npy", npy(d(), major=2, length=0xFFFFFFFF), "truncated: the header needs 4294967295 bytes")
put("npy-truncated-header.npy", npy(d())[:40], "truncated: the header needs 118 bytes at byte 10, the file has 40")
put("npy-truncated-data.npy", npy(d())[:-28], "truncated: shape 3x4 of <f4 needs 48 bytes at byte 128, the file has 148")
put("npy-no-data.npy", npy(d(shape="(1000000000,)"), b""), "needs 4000000000 bytes at byte 128, the file has 128")
put("npy-trailing.npy", npy(d()) + b"\0\0\0\0", "trailing data: 4 bytes after the array")
put("npy-shape-bytes.npy", npy(d("'<f8'")), "truncated: shape 3x4 of <f8 needs 96 bytes at byte 128, the file has 176")
put("npy-overflow.npy", npy(d(shape="(4294967296, 4294967296, 16)")), "shape 4294967296x4294967296x16 of <f4 overflows")
put("npy-big-endian.npy", npy(d("'>f4'")), "dtype '>f4' is big-endian")
put("npy-object.npy", npy(d("'|O'"), b"\x80\x02]q\x00."), "object arrays (pickled Python objects) are not supported")
put("npy-structured.npy", npy(d("[('a', '<f4'), ('b', '<f4')]", shape="(6,)")), "structured dtypes (records with named fields) are not supported")
put("npy-unicode.npy", npy(d("'<U4'")), "dtype '<U4' is not supported")
put("npy-complex.npy", npy(d("'<c8'", shape="(6,)")), "dtype '<c8' is not supported")
put("npy-datetime.npy", npy(d("'<M8[s]'", shape="(6,)")), "dtype '<M8[s]' is not supported")
put("npy-missing-shape.npy", npy("{'descr': '<f4', 'fortran_order': False, }"), "needs the keys 'descr', 'fortran_order' and 'shape'")
put("npy-unknown-key.npy", npy("{'descr': '<f4', 'fortran_order': False, 'shape': (3, 4), 'x': 1, }"), "unexpected key 'x'")
put("npy-duplicate-key.npy", npy("{'descr': '<f4', 'fortran_order': False, 'shape': (3, 4), 'shape': (12,), }"), "the key 'shape' appears twice")
put("npy-negative-dim.npy", npy(d(shape="(-3, 4)")), "a dimension is not a non-negative integer")
put("npy-huge-dim.npy", npy(d(shape="(99999999999999999999999,)")), "a dimension is too large")
put("npy-33-dims.npy", npy(d(shape="(" + "1, " * 33 + ")")), "more than 32 dimensions")
put("npy-bad-order.npy", npy(d(order="'yes'")), "expected True or False")
put("npy-unterminated.npy", npy("{'descr': '<f4"), "unterminated string")
put("npy-text-after.npy", npy(d() + " junk"), "unexpected text after the dictionary")
put("npy-not-dict.npy", npy("[1, 2]"), "malformed .npy header: expected '{'")
put("npy-binary-header.npy", npy(b"{\xff\x00\x01}"), "malformed .npy header: expected a string")


# --- .npz --------------------------------------------------------------------------------------
def npz(members, method=zipfile.ZIP_STORED):
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", method) as z:
        for name, data in members:
            info = zipfile.ZipInfo(name, date_time=(2024, 1, 1, 0, 0, 0))
            info.compress_type = method
            z.writestr(info, data)
    return bytearray(buf.getvalue())


def headers(z):
    """Offsets of the local and central headers, in member order."""
    local = [i for i in range(len(z) - 3) if z[i:i + 4] == b"PK\x03\x04"]
    central = [i for i in range(len(z) - 3) if z[i:i + 4] == b"PK\x01\x02"]
    return local, central


def patch(z, member, local_at, central_at, fmt, value):
    """Writes `value` at the same field of a member's local (offset local_at) and central
    (offset central_at) header, so that libzip's consistency check sees no disagreement."""
    local, central = headers(z)
    if local_at is not None:
        struct.pack_into(fmt, z, local[member] + local_at, value)
    if central_at is not None:
        struct.pack_into(fmt, z, central[member] + central_at, value)
    return z


GOOD_NPY = npy(d())
ZEROS_NPY = npy(d(shape="(4096,)"), b"\0" * 16384)
put("empty.npz", b"", "the file is empty")
put("npz-not-zip.npz", b"this is not a zip archive at all, just text\n" * 4, "not a valid zip archive")
put("npz-truncated.npz", bytes(npz([("a.npy", GOOD_NPY)])[:150]), "not a valid zip archive")
put("npz-no-central.npz", bytes(npz([("a.npy", GOOD_NPY)])[:-22]), "not a valid zip archive")
z = npz([("a.npy", GOOD_NPY)])
z[-6:-2] = struct.pack("<I", 0x7FFFFFF0)  # central directory offset past the end
put("npz-cdir-offset.npz", bytes(z), "not a valid zip archive")
z = npz([("a.npy", GOOD_NPY)])
z[headers(z)[0][0] + 30 + len("a.npy") + 100] ^= 0xFF  # a data byte: the CRC no longer matches
put("npz-bad-crc.npz", bytes(z), "member 'a.npy': corrupt member")
z = npz([("a.npy", ZEROS_NPY)], zipfile.ZIP_DEFLATED)
start = headers(z)[0][0] + 30 + len("a.npy")
for k in range(start + 2, start + 20):
    z[k] ^= 0x5A
put("npz-corrupt-deflate.npz", bytes(z), "member 'a.npy': corrupt member")
put("npz-not-npy-member.npz", bytes(npz([("a.npy", GOOD_NPY), ("notes.txt", b"hello")])), "member 'notes.txt': not a .npy member")
put("npz-bad-npy-member.npz", bytes(npz([("w.npy", b"\x93NUMPY\x01\x00\xff\x00{")])), "member 'w.npy': truncated: the header needs 255 bytes")
put("npz-big-endian-member.npz", bytes(npz([("w.npy", npy(d("'>f4'")))])), "member 'w.npy': dtype '>f4' is big-endian")
z = npz([("a.npy", GOOD_NPY), ("a.npy", GOOD_NPY)])
put("npz-duplicate.npz", bytes(z), "not a valid zip archive: two members have the same name")
z = npz([("a.npy", GOOD_NPY)])
patch(z, 0, 22, 24, "<I", len(GOOD_NPY) + 100)  # uncompressed size of a stored member
put("npz-stored-size-lie.npz", bytes(z), "member 'a.npy': stored member declares 276 bytes but holds 176")
z = npz([("a.npy", ZEROS_NPY)], zipfile.ZIP_DEFLATED)
patch(z, 0, 22, 24, "<I", 0xFFFFFFF0)  # a zip bomb's claim: 4 GB from a few dozen bytes
put("npz-deflate-claims-huge.npz", bytes(z), "member 'a.npy': declares 4294967280 bytes, more than")
z = npz([("a.npy", ZEROS_NPY)], zipfile.ZIP_DEFLATED)
patch(z, 0, 22, 24, "<I", len(ZEROS_NPY) + 1000)
put("npz-deflate-short.npz", bytes(z), "member 'a.npy': ")
z = npz([("a.npy", ZEROS_NPY)], zipfile.ZIP_DEFLATED)
patch(z, 0, 22, 24, "<I", len(ZEROS_NPY) - 1000)
put("npz-deflate-long.npz", bytes(z), "member 'a.npy': ")
z = npz([("a.npy", GOOD_NPY)])
patch(z, 0, 6, 8, "<H", 1)  # general purpose flag bit 0: encrypted
put("npz-encrypted.npz", bytes(z), "member 'a.npy': ")
z = npz([("a.npy", GOOD_NPY)])
patch(z, 0, 8, 10, "<H", 12)  # bzip2
put("npz-bzip2.npz", bytes(z), "member 'a.npy': compression method 12 is not supported (stored or deflated members are)")
z = npz([("a.npy", GOOD_NPY)])
patch(z, 0, 8, 10, "<H", 77)  # no such method
put("npz-unknown-method.npz", bytes(z), "member 'a.npy': compression method 77 is not supported")
z = npz([("a.npy", GOOD_NPY), ("b.npy", GOOD_NPY)])
local, central = headers(z)
struct.pack_into("<I", z, central[1] + 42, local[0])  # both entries point at the same data
put("npz-overlapping.npz", bytes(z), "not a valid zip archive")
z = npz([("a.npy", GOOD_NPY)])
patch(z, 0, None, 28, "<H", 200)  # central name length past the directory
put("npz-name-length.npz", bytes(z), "not a valid zip archive")


# --- ONNX (protobuf written by hand: Model -> Graph -> TensorProto) -----------------------------
def varint(v):
    v &= (1 << 64) - 1
    out = bytearray()
    while True:
        b = v & 0x7F
        v >>= 7
        out.append(b | (0x80 if v else 0))
        if not v:
            return bytes(out)


def field(number, value):
    if isinstance(value, int):
        return varint(number << 3) + varint(value)
    return varint(number << 3 | 2) + varint(len(value)) + value


def tensor(name=b"w", dims=(3, 4), dtype=1, raw=F32_12, extra=b""):
    t = b"".join(field(1, x) for x in dims) + field(2, dtype)
    if name is not None:
        t += field(8, name)
    if raw is not None:
        t += field(9, raw)
    return t + extra


def model(*tensors, graph_extra=b""):
    graph = b"".join(field(5, t) for t in tensors) + field(2, b"g") + graph_extra
    return field(1, 8) + field(2, b"corpus") + field(7, graph) + field(8, field(2, 17))


put("empty.onnx", b"", "the file is empty")
put("onnx-garbage.onnx", b"\xff" * 64, "not a valid ONNX model (protobuf parsing failed)")
put("onnx-truncated.onnx", model(tensor())[:40], "not a valid ONNX model (protobuf parsing failed)")
put("onnx-length-2gb.onnx", field(1, 8) + varint(7 << 3 | 2) + varint(0x7FFFFFF0) + b"\0" * 16, "protobuf parsing failed")
put("onnx-external-data.onnx", model(tensor(raw=None, extra=field(13, field(1, b"location") + field(2, b"/etc/passwd")) + field(14, 1))), "initializer 'w': external data is not supported")
put("onnx-raw-size.onnx", model(tensor(raw=F32_12[:40])), "initializer 'w': raw_data holds 40 bytes, the shape needs 48")
put("onnx-raw-dtype.onnx", model(tensor(dtype=11)), "initializer 'w': raw_data holds 48 bytes, the shape needs 96")
put("onnx-float-data-count.onnx", model(tensor(raw=None, extra=field(4, struct.pack("<5f", *range(5))))), "initializer 'w': float_data holds 5 values, the shape needs 12")
put("onnx-no-data.onnx", model(tensor(dims=(1000000000,), raw=None)), "initializer 'w': float_data holds 0 values, the shape needs 1000000000")
put("onnx-negative-dim.onnx", model(tensor(dims=(-3, 4))), "initializer 'w': negative dimension -3")
put("onnx-overflow-dims.onnx", model(tensor(dims=(1 << 40, 1 << 40))), "initializer 'w': shape 1099511627776x1099511627776 overflows")
put("onnx-duplicate-name.onnx", model(tensor(), tensor()), "initializer 'w': the name appears twice")
put("onnx-string-type.onnx", model(tensor(dtype=8)), "initializer 'w': data type STRING is not supported")
put("onnx-unknown-type.onnx", model(tensor(dtype=99)), "initializer 'w': data type type 99 is not supported")
put("onnx-no-name.onnx", model(tensor(name=None)), "an initializer has no name")
put("onnx-sparse.onnx", model(tensor(), graph_extra=field(15, field(1, tensor(b"v", (2,), 1, F32_12[:8])))), "sparse initializers are not supported")
put("onnx-segment.onnx", model(tensor(extra=field(3, field(1, 0) + field(2, 12)))), "initializer 'w': segmented tensors are not supported")
nested = field(2, b"leaf")
for _ in range(200):  # Graph -> Node -> Attribute -> Graph -> ...: past the recursion limit
    nested = field(1, field(5, field(1, b"body") + field(6, nested)))
put("onnx-deep-nesting.onnx", field(1, 8) + field(7, nested), "not a valid ONNX model (protobuf parsing failed)")
put("onnx-control-name.onnx", model(tensor(name=b"w\n\x00", dtype=8)), "initializer 'w\\x0A\\x00': data type STRING is not supported")


# --- IDX (raw and gzip) ------------------------------------------------------------------------
def idx(dims, data, type_code=0x08, rank=None):
    head = bytes([0, 0, type_code, len(dims) if rank is None else rank])
    return head + b"".join(struct.pack(">I", x) for x in dims) + data


def gz(data):
    buf = io.BytesIO()
    with gzip.GzipFile(fileobj=buf, mode="wb", mtime=0) as f:
        f.write(data)
    return bytearray(buf.getvalue())


IMAGES = idx((2, 4, 4), bytes(range(32)))
put("empty-idx1-ubyte", b"", "the file is empty")
put("idx-bad-magic-idx3-ubyte", b"\x01\x02" + IMAGES[2:], "not an IDX file: it starts with 0x01 0x02, not two zero bytes")
put("idx-float-type-idx3-ubyte", idx((2, 4, 4), bytes(128), 0x0D), "unsupported IDX type 0x0D (only 0x08, unsigned byte, is supported)")
put("idx-rank0-idx0-ubyte", idx((), b"", rank=0), "unsupported number of dimensions 0 (expected 1 to 4)")
put("idx-rank5-idx5-ubyte", idx((1, 1, 1, 1, 1), b"\0"), "unsupported number of dimensions 5 (expected 1 to 4)")
put("idx-short-header-idx3-ubyte", IMAGES[:10], "truncated: the IDX header needs 12 bytes at byte 4, the file has 10")
put("idx-zero-dim-idx3-ubyte", idx((2, 0, 4), b""), "dimension 2 is zero (2 x 0 x 4)")
put("idx-overflow-idx4-ubyte", idx((0xFFFFFFFF,) * 4, b""), "size 4294967295 x 4294967295 x 4294967295 x 4294967295 overflows 64 bits")
put("idx-truncated-idx3-ubyte", IMAGES[:-5], "truncated: the data (2 x 4 x 4) needs 32 bytes at byte 16, the file has 43")
put("idx-huge-claim-idx3-ubyte", idx((60000, 28, 28), bytes(16)), "truncated: the data (60000 x 28 x 28) needs 47040000 bytes at byte 16, the file has 32")
put("idx-trailing-idx3-ubyte", IMAGES + b"\0", "trailing data: 1 byte after the data (2 x 4 x 4)")
put("idx-gz-truncated-idx3-ubyte.gz", bytes(gz(IMAGES)[:-12]), "truncated gzip stream: the compressed data ends early")
put("idx-gz-only-magic-idx3-ubyte.gz", b"\x1f\x8b", "truncated gzip stream")
z = gz(IMAGES)
for k in range(12, 20):
    z[k] ^= 0xA5
put("idx-gz-corrupt-idx3-ubyte.gz", bytes(z), "corrupt gzip stream")
z = gz(IMAGES)
z[-8] ^= 0xFF
put("idx-gz-bad-crc-idx3-ubyte.gz", bytes(z), "corrupt gzip stream: incorrect data check")
z = gz(IMAGES)
z[-4] ^= 0xFF
put("idx-gz-bad-length-idx3-ubyte.gz", bytes(z), "corrupt gzip stream: incorrect length check")
z = gz(IMAGES)
z[2] = 7  # compression method: only 8 (deflate) exists
put("idx-gz-bad-method-idx3-ubyte.gz", bytes(z), "corrupt gzip stream: unknown compression method")
put("idx-gz-trailing-garbage-idx3-ubyte.gz", bytes(gz(IMAGES)) + b"garbage", "trailing bytes after the gzip stream")
put("idx-gz-empty-idx1-ubyte.gz", bytes(gz(b"")), "the inflated data is empty")
put("idx-gz-bomb-claim-idx3-ubyte.gz", bytes(gz(idx((60000, 1000, 1000), bytes(4096))[:4112])), "more than a")
put("idx-gz-short-idx3-ubyte.gz", bytes(gz(IMAGES[:-8])), "truncated: the data (2 x 4 x 4) needs 32 bytes at byte 16, the inflated data has 40")
put("idx-gz-long-idx3-ubyte.gz", bytes(gz(IMAGES + b"\0\0")), "trailing data: the inflated data goes on after the data (2 x 4 x 4) at byte 48")
put("idx-gz-two-members-long-idx1-ubyte.gz", bytes(gz(idx((3,), b"\0\1\2"))) + bytes(gz(b"\3")), "trailing data: the inflated data goes on after the data (3) at byte 11")


# --- CIFAR-10 binary ---------------------------------------------------------------------------
def record(label):
    return bytes([label]) + bytes(i % 256 for i in range(3072))


put("empty.bin", b"", "the file is empty")
put("cifar-truncated.bin", record(1)[:-1], "not CIFAR-10 binary: 3072 bytes are not a whole number of 3073-byte records")
put("cifar-trailing.bin", record(1) + b"\0", "3074 bytes are not a whole number of 3073-byte records")
put("cifar-label-10.bin", record(10), "label 10 of record 0 is not below 10")
put("cifar-label-255.bin", record(3) + record(255), "label 255 of record 1 is not below 10")


# --- CSV (label in column 1) -------------------------------------------------------------------
put("empty.csv", b"", "the file is empty")
put("csv-header-only.csv", b"label,x,y\n", "no data line")
put("csv-blank-lines.csv", b"\n\r\n  \n", "no data line")
put("csv-non-numeric.csv", b"label,x,y\n1,0.5,2\n0,abc,3\n", "line 3: field 2 'abc' is not a finite number")
put("csv-nan.csv", b"1,nan,2\n", "line 1: field 2 'nan' is not a finite number")
put("csv-inf.csv", b"1,2,3\n0,-inf,3\n", "line 2: field 2 '-inf' is not a finite number")
put("csv-overflow.csv", b"1,1e999,3\n", "line 1: field 2 '1e999' is not a finite number")
put("csv-empty-field.csv", b"1,2,3\n0,,3\n", "line 2: field 2 '' is not a finite number")
put("csv-nul-in-field.csv", b"1,2,3\n0,2\x00x,3\n", "line 2: field 2 '2\\x00x' is not a finite number")
put("csv-long-field.csv", b"1," + b"1" * 100 + b"\n", "line 1: field 2 '1111111111111111111111111111111111111111...' is not a finite number")
put("csv-ragged-longer.csv", b"1,2,3\n0,4,5,6\n", "line 2: 4 fields, the first line has 3")
put("csv-ragged-shorter.csv", b"x,y,z\n1,2,3\n0,4,5\n1,6\n", "line 4: 2 fields, the first line has 3")
put("csv-label-fraction.csv", b"1.5,2\n", "line 1: label '1.5' is not an integer in [0, 65536)")
put("csv-label-negative.csv", b"2,1\n-1,2\n", "line 2: label '-1' is not an integer in [0, 65536)")
put("csv-label-too-large.csv", b"70000,1\n", "line 1: label '70000' is not an integer in [0, 65536)")
put("csv-one-column.csv", b"1\n2\n", "line 1: no feature besides the label")
put("csv-header-late.csv", b"1,2\nlabel,x\n", "line 2: field 1 'label' is not a finite number")
put("csv-binary.csv", bytes(range(256)) * 4, "is not a finite number")

with open(os.path.join(OUT, "expected.tsv"), "w") as f:
    f.write("# file\tthe problem its one-line error must name (scripts/make_malformed_corpus.py)\n")
    for name, problem in cases:
        f.write(name + "\t" + problem + "\n")
print(len(cases), "malformed files in", os.path.normpath(OUT))
