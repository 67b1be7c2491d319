#!/usr/bin/env python3
"""Writes the profiles in this directory: valid profile.proto files shaped
the way producers other than Go's runtime shape them (ids out of order,
one function name in several files, drop_frames, units other than bytes
and nanoseconds, NUL bytes in names, generic and C++ names).

The tests read them with reef and with `go tool pprof` and compare: the
expected figures come from pprof, not from this script.  Run it again after
changing it; the outputs are committed so the tests need no Python.
"""
import gzip
import importlib.util
import os

HERE = os.path.dirname(os.path.abspath(__file__))

# The protobuf encoding helpers of the malformed profiles' generator.
_spec = importlib.util.spec_from_file_location("badpprof", os.path.join(HERE, "..", "bad", "pprof", "make.py"))
_bad = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(_bad)
varint, field = _bad.varint, _bad.field


def packed(num, ints):
    return field(num, b"".join(varint(i) for i in ints))


class Profile:
    """A profile.proto writer; strings are interned as they are used."""

    def __init__(self):
        self.strings = [b""]
        self.index = {b"": 0}
        self.fields = []

    def s(self, text):
        b = text.encode() if isinstance(text, str) else text
        if b not in self.index:
            self.index[b] = len(self.strings)
            self.strings.append(b)
        return self.index[b]

    def raw_string(self, b):
        """Appends a string even if it is already in the table."""
        self.strings.append(b)
        return len(self.strings) - 1

    def sample_type(self, t, u):
        self.fields.append(field(1, field(1, self.s(t)) + field(2, self.s(u))))

    def sample(self, locs, values, labels=()):
        body = packed(1, locs) + packed(2, values)
        for k, v in labels:
            body += field(3, field(1, self.s(k)) + field(2, self.s(v)))
        self.fields.append(field(2, body))

    def mapping(self, mid, filename_index):
        self.fields.append(field(3, field(1, mid) + field(2, 0x400000) + field(3, 0x800000) + field(5, filename_index)))

    def location(self, lid, lines, mapping=0, address=0):
        body = field(1, lid)
        if mapping:
            body += field(2, mapping)
        if address:
            body += field(3, address)
        for fid, line in lines:
            body += field(4, field(1, fid) + field(2, line))
        self.fields.append(field(4, body))

    def function(self, fid, name, filename):
        # Go writes the name as the system name too: pprof's demangler then
        # treats it as a name to simplify.
        n = self.s(name)
        self.fields.append(field(5, field(1, fid) + field(2, n) + field(3, n) + field(4, self.s(filename))))

    def top(self, num, value):
        self.fields.append(field(num, value))

    def write(self, name):
        data = b"".join(self.fields) + b"".join(field(6, s) for s in self.strings)
        with open(os.path.join(HERE, name), "wb") as f:
            f.write(gzip.compress(data, mtime=0))


def out_of_order_ids():
    """Samples name location ids before they are defined, ids are sparse
    and not in order of first use (merged profiles do this)."""
    p = Profile()
    p.sample_type("samples", "count")
    p.sample_type("cpu", "nanoseconds")
    p.function(1, "main.leaf", "main.go")
    p.function(2, "main.caller", "main.go")
    for i in range(3, 303):
        p.function(i, "main.f%d" % i, "main.go")
    p.sample([6000, 9000000, 7], [3, 30000000])
    p.sample([7, 6000], [2, 20000000])
    for i in range(300):
        p.sample([100 + i, 7], [1, 10000000])
    for i in range(300):
        p.location(100 + i, [(3 + i, 10)])
    p.location(5000, [(2, 5)])
    p.location(6000, [(1, 3)])
    p.location(7, [(2, 20)])
    p.location(9000000, [(2, 30)])
    p.write("out-of-order-ids.pb.gz")


def same_name(tag, root, values):
    """One function name in two files (two builds, vendored copies)."""
    p = Profile()
    p.sample_type("alloc_space", "bytes")
    p.function(1, "main.work", root + "/main.go")
    p.function(2, "main.work", root + "/vendor/main.go")
    p.function(3, "main.main", root + "/main.go")
    p.function(4, "main.only" + tag, root + "/main.go")
    p.location(1, [(1, 10)])
    p.location(2, [(2, 11)])
    p.location(3, [(3, 20)])
    p.location(4, [(4, 30)])
    p.sample([1, 3], [values[0]])
    p.sample([2, 3], [values[1]])
    p.sample([4, 3], [values[2]])
    p.write("same-name-%s.pb.gz" % tag)


def drop_frames(name, drop, keep):
    """A C++ heap profile: allocator frames named by drop_frames, one kept
    by keep_frames, one matched inside an inlined location."""
    p = Profile()
    p.sample_type("inuse_objects", "count")
    p.sample_type("inuse_space", "bytes")
    names = ["malloc", "operator new", "std::vector<int>::_M_realloc_insert(int const&)",
             "Server::Handle(Request const&)", "main", "__libc_start_main",
             "tc_new", "Cache::Fill()", "calloc", "keep_me_alloc"]
    for i, n in enumerate(names, 1):
        p.function(i, n, "server.cc")
    for i in range(1, len(names) + 1):
        p.location(i, [(i, 10 * i)])
    p.location(20, [(7, 5), (8, 6)])      # tc_new inlined into Cache::Fill
    p.location(21, [(10, 9)])
    p.sample([1, 2, 3, 4, 5, 6], [4, 4096])
    p.sample([2, 4, 5, 6], [1, 512])
    p.sample([20, 4, 5, 6], [2, 2048])
    p.sample([9, 8, 5, 6], [1, 100])
    p.sample([21, 8, 5, 6], [3, 300])
    p.sample([1], [1, 64])                # only allocator frames: nothing to drop to
    p.top(7, p.s(drop))
    p.top(8, p.s(keep))
    p.write(name)


UNITS = ["microseconds", "milliseconds", "seconds", "kilobytes", "megabytes", "us", "ms", "s", "kb",
         "KB", "MiB", "hours", "objects", "count"]


def units():
    """Sample types in units other than bytes and nanoseconds (Node.js wall
    profiles in microseconds, Java contention in milliseconds...)."""
    p = Profile()
    for u in UNITS:
        p.sample_type("v_" + u, u)
    p.function(1, "main.small", "main.go")
    p.function(2, "main.large", "main.go")
    p.function(3, "main.root", "main.go")
    for i in (1, 2, 3):
        p.location(i, [(i, i)])
    n = len(UNITS)
    p.sample([1, 3], [7] * n)
    p.sample([1, 3], [1493] * n)
    p.sample([2, 3], [2500001] * n)
    p.sample([2, 3], [-9999] * n)
    p.write("units.pb.gz")


def odd_names():
    """NUL bytes inside function names (two functions that differ only
    after the NUL), an empty mapping name at a non-zero string index, and
    a frame with no function in a mapping with a name."""
    p = Profile()
    p.sample_type("samples", "count")
    p.function(1, b"main.a\x00one", "a.go")
    p.function(2, b"main.a\x00two", "a.go")
    p.function(3, "main.root", "a.go")
    empty = p.raw_string(b"")
    p.mapping(1, empty)
    p.mapping(2, p.s("/usr/lib/libfoo.so.1"))
    p.location(1, [(1, 1)])
    p.location(2, [(2, 2)])
    p.location(3, [(3, 3)])
    p.location(4, [], mapping=1, address=0x401000)
    p.location(5, [], mapping=2, address=0x402000)
    p.location(6, [], address=0x403000)
    p.sample([1, 3], [5])
    p.sample([2, 3], [7])
    p.sample([4, 3], [11])
    p.sample([5, 3], [13])
    p.sample([6], [17])
    p.write("odd-names.pb.gz")


def generics():
    """Go generic instantiations as Go before 1.21 wrote them, Go 1.21+'s
    [...], and C++/Java signatures."""
    p = Profile()
    p.sample_type("samples", "count")
    names = ["main.Map[go.shape.int,go.shape.string]", "main.Map[go.shape.int64,go.shape.string]",
             "main.(*List[go.shape.int]).Push", "main.Sum[...]", "main.root",
             "std::vector<int, std::allocator<int> >::push_back(int const&)",
             "std::vector<long, std::allocator<long> >::push_back(long const&)",
             "java.util.HashMap.get(java.lang.Object)", "ns::Fn(int)::{lambda()#1}::operator()() const"]
    for i, n in enumerate(names, 1):
        p.function(i, n, "g.go")
        p.location(i, [(i, i)])
    for i in range(1, len(names) + 1):
        if i != 5:
            p.sample([i, 5], [i * 3])
    p.write("generics.pb.gz")


def main():
    out_of_order_ids()
    same_name("a", "/build/a", [100, 40, 9])
    same_name("b", "/home/ci/b", [130, 40, 0])
    drop_frames("drop-frames.pb.gz", "malloc|calloc|operator new|tc_new|std::vector<.*>::_M_realloc_insert|.*_alloc",
                "keep_me_alloc")
    # The same in RE2 syntax that POSIX lacks, as producers write it.
    drop_frames("drop-frames-re2.pb.gz", r"(?:malloc|calloc)|operator\snew|tc_\w+|std::vector<.*?>::_M_realloc_insert|.*_alloc\d*",
                r"keep_[[:alpha:]]+_alloc")
    units()
    odd_names()
    generics()


if __name__ == "__main__":
    main()
