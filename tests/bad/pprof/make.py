#!/usr/bin/env python3
"""Writes the malformed pprof profiles in this directory.

Each file breaks one rule of profile.proto (google/pprof) that reef must
report with exit status 2.  Run it again after changing it; the outputs are
committed so the tests do not need Python.
"""
import gzip
import os
import random

HERE = os.path.dirname(os.path.abspath(__file__))


def varint(n):
    n &= (1 << 64) - 1
    out = bytearray()
    while True:
        b = n & 0x7F
        n >>= 7
        if n:
            out.append(b | 0x80)
        else:
            out.append(b)
            return bytes(out)


def field(num, payload):
    if isinstance(payload, int):
        return varint(num << 3) + varint(payload)
    return varint(num << 3 | 2) + varint(len(payload)) + payload


def msg(*fields):
    return b"".join(fields)


def value_type(t, u):
    return msg(field(1, t), field(2, u))


def profile(strings, sample_types=((1, 2),), samples=(), locations=(), functions=()):
    out = b""
    for t, u in sample_types:
        out += field(1, value_type(t, u))
    for locs, values in samples:
        out += field(2, msg(field(1, b"".join(varint(l) for l in locs)),
                            field(2, b"".join(varint(v) for v in values))))
    for lid, fid, line in locations:
        out += field(4, msg(field(1, lid), field(4, msg(field(1, fid), field(2, line)))))
    for fid, name, fname in functions:
        out += field(5, msg(field(1, fid), field(2, name), field(4, fname)))
    for s in strings:
        out += field(6, s.encode())
    return out


GOOD = dict(strings=["", "samples", "count", "main.f", "main.go"],
            samples=[([1], [5])], locations=[(1, 1, 10)], functions=[(1, 3, 4)])


def write(name, data, compress=True):
    with open(os.path.join(HERE, name), "wb") as f:
        f.write(gzip.compress(data, mtime=0) if compress else data)


def main():
    write("good.pb.gz", profile(**GOOD))
    whole = gzip.compress(profile(**GOOD), mtime=0)
    with open(os.path.join(HERE, "truncated-gzip.pb.gz"), "wb") as f:
        f.write(whole[: len(whole) // 2])
    bad = dict(GOOD, functions=[(1, 99, 4)])
    write("string-index-out-of-range.pb.gz", profile(**bad))
    bad = dict(GOOD, samples=[([1], [5, 6])])
    write("value-count-mismatch.pb.gz", profile(**bad))
    bad = dict(GOOD, strings=["x", "samples", "count", "main.f", "main.go"])
    write("no-empty-first-string.pb.gz", profile(**bad))
    bad = dict(GOOD, samples=[([7], [5])])
    write("undefined-location.pb.gz", profile(**bad))
    bad = dict(GOOD, locations=[(1, 8, 10)])
    write("undefined-function.pb.gz", profile(**bad))
    # A profile whose message is cut in the middle of a field.
    write("truncated-field.pb.gz", profile(**GOOD)[:-3])
    rnd = random.Random(1)
    write("garbage.pb.gz", bytes(rnd.getrandbits(8) for _ in range(4096)))
    write("garbage.bin", bytes(rnd.getrandbits(8) for _ in range(4096)), compress=False)
    # A gzip bomb: 1 GiB of well-formed string-table entries in about 1 MB.
    entry = field(6, b"a" * 65536)
    with open(os.path.join(HERE, "bomb.pb.gz"), "wb") as raw:
        with gzip.GzipFile(fileobj=raw, mode="wb", compresslevel=9, mtime=0) as f:
            f.write(profile(**GOOD))
            for _ in range((1 << 30) // len(entry)):
                f.write(entry)


if __name__ == "__main__":
    main()
