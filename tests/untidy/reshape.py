#!/usr/bin/env python3
"""reshape.py - rewrite a goroutine dump the way people's tools rewrite it.

    reshape.py SHAPE < dump > reshaped
    reshape.py --all DIR < dump        (DIR/SHAPE.txt for every shape)
    reshape.py --list

A dump pasted into an issue, copied out of a CI log or read back from a log
collector is no longer what Go printed: tabs became spaces (or vanished),
each line gained a timestamp, a journald prefix, a line number or "> "
quoting, line ends became CRLF, a test runner's trailer follows the last
goroutine.  Each SHAPE below is one such rewrite; the goroutines, and so the
ground truth of the capture, do not change.  `cut:N` keeps the first N bytes
(a paste cut short).  The tests (tests/e2e/test_untidy.sh) feed the captures
of tests/captures and the shared corpus through every shape.
"""
import json
import sys


def expand_tabs(line, col0, width):
    """Tabs to spaces: width > 0 a fixed count, 0 dropped, -1 to 8-column stops."""
    out, col = [], col0
    for ch in line:
        if ch != "\t":
            out.append(ch)
            col += 1
            continue
        n = (8 - col % 8) if width < 0 else width
        out.append(" " * n)
        col += n
    return "".join(out)


def prefixed(make, tabs=-1):
    def shape(lines):
        res = []
        for i, line in enumerate(lines, 1):
            pre = make(i, line)
            res.append(pre + expand_tabs(line, len(pre), tabs) if tabs is not None else pre + line)
        return res
    return shape


def tabs_to(width):
    return prefixed(lambda i, line: "", width)


SHAPES = {
    "spaces1": tabs_to(1),
    "spaces2": tabs_to(2),
    "spaces4": tabs_to(4),
    "spaces8": tabs_to(8),
    "spaces12": tabs_to(12),
    "notab": tabs_to(0),  # syslog drops the tab altogether
    "rfc3339": prefixed(lambda i, l: "2026-11-29T11:%02d:%02d.%06dZ " % (i // 3600 % 60, i // 60 % 60, i * 7919 % 1000000), None),
    "cri": prefixed(lambda i, l: "2026-11-29T11:45:49.%09dZ stderr F " % (i * 104729 % 1000000000), None),
    "journald": prefixed(lambda i, l: "Nov %2d 11:45:%02d host app[4242]: " % (i % 28 + 1, i % 60)),
    "quote": prefixed(lambda i, l: "> " if l else ">", None),
    "quote2": prefixed(lambda i, l: "> > " if l else "> >", 4),
    "linenum": prefixed(lambda i, l: "%d | " % i, None),
    "indent4": prefixed(lambda i, l: "    "),
    "color": prefixed(lambda i, l: "\x1b[90m%d\x1b[0m " % (1000 + i), None),
    "nbsp": lambda lines: [l.replace("\t", "\u00a0" * 4) for l in lines],  # a web page's no-break spaces
    # Docker's json-file log driver: each line a JSON object
    "docker-json": lambda lines: [json.dumps({"log": l + "\n", "stream": "stderr", "time": "2026-11-29T11:45:%02d.%09dZ" % (i % 60, i * 7919)},
                                             ensure_ascii=False, separators=(",", ":")) for i, l in enumerate(lines)],
}


def trailer(text):
    return text.rstrip("\n") + "\nexit status 2\nFAIL\tgithub.com/x/y\t600.024s\nFAIL"


WHOLE = {
    "crlf": lambda t: t.replace("\n", "\r\n"),
    "trailing-ws": lambda t: t.replace("\n", "  \n"),  # a terminal's padding
    # zap, logrus: the dump as one JSON string in one log line
    "json-string": lambda t: json.dumps({"level": "error", "stacktrace": t}, ensure_ascii=False) + "\n",
    "bom-nonl": lambda t: "\ufeff" + t.rstrip("\n"),
    "trailer": trailer,
}


def reshape(shape, data):
    if shape.startswith("cut:"):
        return data[: int(shape[4:])]
    text = data.decode("utf-8", "surrogateescape")
    if shape in WHOLE:
        text = WHOLE[shape](text)
    else:
        lines = text.split("\n")
        last = lines.pop() if lines and lines[-1] == "" else None
        lines = SHAPES[shape](lines)
        text = "\n".join(lines) + ("\n" if last is not None else "")
    return text.encode("utf-8", "surrogateescape")


def main():
    if sys.argv[1:] == ["--list"]:
        print("\n".join(list(SHAPES) + list(WHOLE)))
        return 0
    if len(sys.argv) == 3 and sys.argv[1] == "--all":
        data = sys.stdin.buffer.read()
        for shape in list(SHAPES) + list(WHOLE):
            with open("%s/%s.txt" % (sys.argv[2], shape), "wb") as f:
                f.write(reshape(shape, data))
        return 0
    if len(sys.argv) != 2 or (sys.argv[1] not in SHAPES and sys.argv[1] not in WHOLE and not sys.argv[1].startswith("cut:")):
        sys.stderr.write("usage: reshape.py SHAPE|cut:N < dump  (reshape.py --list)\n")
        return 2
    sys.stdout.buffer.write(reshape(sys.argv[1], sys.stdin.buffer.read()))
    return 0


if __name__ == "__main__":
    sys.exit(main())
