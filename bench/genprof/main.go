// Command genprof writes large synthetic pprof profiles shaped like the ones
// Go's runtime/pprof writes, for benchmarking profile readers.
//
//	genprof -kind heap|cpu -size-mb N -out FILE [-seed S] [-funcs F]
//
// A fixed-seed universe of F functions (plausible Go names in stdlib,
// third-party and application packages, with files, start lines and call
// sites, about 10% of them inlined into their callers) is walked to make
// distinct call stacks of depth 10-60. Heap profiles have Go's four sample
// types (alloc_objects, alloc_space, inuse_objects, inuse_space), values
// scaled for a 512 KiB sampling rate the way the runtime scales them, and a
// numeric `bytes` label per sample (the same stack may appear with several
// object sizes, as in Go). CPU profiles have samples/count and cpu/nanoseconds
// with period 10 ms and pprof.Do-style string labels on some samples.
//
// The number of samples is chosen so that the gzip-compressed file is about
// N MiB. The output is a function of the flags alone. It is encoded by
// github.com/google/pprof/profile and compressed at gzip.BestSpeed, as the
// runtime does (the field order differs from the runtime's: the package
// writes the string table before the trailing scalar fields).
package main

import (
	"bytes"
	"compress/gzip"
	"flag"
	"fmt"
	"math"
	"math/rand"
	"os"
	"strings"
	"time"

	"github.com/google/pprof/profile"
)

const (
	textStart = 0x400000
	memRate   = 512 * 1024
	cpuPeriod = 10_000_000 // ns, 100 Hz
	minDepth  = 10
	maxDepth  = 60
	runtimeL  = 9 // layer of package runtime
)

func main() {
	kind := flag.String("kind", "heap", "heap or cpu")
	sizeMB := flag.Float64("size-mb", 10, "target size of the compressed file, MiB")
	out := flag.String("out", "", "output file")
	seed := flag.Int64("seed", 1, "random seed")
	nFuncs := flag.Int("funcs", 3000, "number of distinct functions")
	flag.Parse()
	if *out == "" || (*kind != "heap" && *kind != "cpu") || *sizeMB <= 0 {
		flag.Usage()
		os.Exit(2)
	}
	start := time.Now()
	g := newGen(*kind, *seed, *nFuncs)
	target := int(*sizeMB * (1 << 20))

	// The size grows a little slower than the sample count (the location
	// table fills up): step towards the target along the local exponent of
	// size against count (at most 8x per step), until within 2%.
	pn, ps := 5000, len(g.encode(5000))
	n := 40000
	data := g.encode(n)
	for i := 0; i < 8; i++ {
		d := float64(len(data)) / float64(target)
		if d > 0.98 && d < 1.02 {
			break
		}
		e := math.Log(float64(len(data))/float64(ps)) / math.Log(float64(n)/float64(pn))
		next := int(float64(n) * math.Pow(1/d, 1/e))
		if next > 8*n {
			next = 8 * n
		}
		if next < 100 {
			next = 100
		}
		pn, ps = n, len(data)
		n = next
		data = nil
		data = g.encode(n)
	}
	if err := os.WriteFile(*out, data, 0o644); err != nil {
		fmt.Fprintln(os.Stderr, "genprof:", err)
		os.Exit(1)
	}
	fmt.Fprintf(os.Stderr, "genprof: %s: %s profile, %d samples, %d locations, %d functions, %d bytes, %.1fs\n",
		*out, *kind, n, len(g.locs), len(g.funcs), len(data), time.Since(start).Seconds())
}

// ---- the function universe ----

type fn struct {
	name, file  string
	start       int
	layer       int
	inline      bool
	callees     []int
	userCallees []int // callees outside the runtime
	pf          *profile.Function
}

type gen struct {
	kind    string
	seed    int64
	funcs   []*fn
	entries []int // functions right under runtime.goexit
	goexit  int
	mapping *profile.Mapping
	vdso    *profile.Mapping
	locs    map[uint64]*profile.Location
}

var (
	stdPkgs = []string{"bufio", "bytes", "compress/flate", "compress/gzip", "context",
		"crypto/aes", "crypto/cipher", "crypto/sha256", "crypto/tls", "database/sql",
		"encoding/base64", "encoding/binary", "encoding/json", "errors", "fmt", "io",
		"log/slog", "math/big", "mime/multipart", "net", "net/http", "net/textproto",
		"net/url", "os", "path/filepath", "reflect", "regexp", "slices", "sort",
		"strconv", "strings", "sync", "text/template", "time", "unicode/utf8",
		"internal/poll", "syscall", "hash/crc32", "container/heap", "maps"}
	modules = []string{"google.golang.org/grpc", "google.golang.org/protobuf",
		"github.com/jackc/pgx/v5", "go.uber.org/zap", "github.com/prometheus/client_golang",
		"github.com/redis/go-redis/v9", "go.opentelemetry.io/otel/sdk", "github.com/gorilla/mux",
		"github.com/klauspost/compress", "github.com/segmentio/kafka-go", "github.com/spf13/cobra",
		"golang.org/x/net", "github.com/aws/aws-sdk-go-v2/service/s3", "github.com/dgraph-io/ristretto"}
	subPkgs = []string{"internal/transport", "internal/codec", "encoding", "proto", "pool",
		"internal/buffer", "http2", "metric", "trace", "zstd", "protocol", "internal/cache",
		"credentials", "balancer", "resolver", "pgtype", "zapcore", "collector"}
	appPkgs = []string{"cmd/shopd", "internal/api", "internal/api/middleware", "internal/auth",
		"internal/cart", "internal/catalog", "internal/checkout", "internal/inventory",
		"internal/orders", "internal/payments", "internal/pricing", "internal/search",
		"internal/search/index", "internal/store", "internal/store/pg", "internal/cache",
		"internal/events", "internal/events/kafka", "internal/render", "internal/render/tmpl",
		"internal/reco", "internal/reco/model", "internal/session", "internal/shipping",
		"internal/telemetry", "internal/users", "internal/workers", "pkg/money", "pkg/geo", "pkg/retry"}
	nouns = []string{"Server", "Conn", "Decoder", "Encoder", "Cache", "Store", "Pool", "Handler",
		"Router", "Client", "Batch", "Writer", "Reader", "Buffer", "Query", "Tx", "Row", "Session",
		"Worker", "Queue", "Index", "Tree", "Node", "Shard", "Span", "Meter", "Stream", "Frame",
		"Request", "Response", "Order", "Cart", "Item", "Price", "Token", "Plan", "Scanner",
		"Registry", "Limiter", "Balancer", "Consumer", "Producer", "Snapshot", "Segment", "Table"}
	verbs = []string{"Get", "Put", "Handle", "Serve", "Read", "Write", "Flush", "Decode", "Encode",
		"Marshal", "Unmarshal", "Process", "Apply", "Commit", "Scan", "Lookup", "Insert", "Resolve",
		"Dispatch", "Run", "Next", "Close", "Do", "Load", "Store", "Parse", "Build", "Render",
		"Validate", "Compute", "Merge", "Fetch", "Sync", "Append", "Grow", "Reset", "Collect", "Emit"}
	runtimeFns = []string{"runtime.mallocgc", "runtime.memmove", "runtime.memclrNoHeapPointers",
		"runtime.mapaccess2_faststr", "runtime.mapassign_faststr", "runtime.growslice",
		"runtime.newobject", "runtime.makeslice", "runtime.scanobject", "runtime.findObject",
		"runtime.gcDrain", "runtime.futex", "runtime.usleep", "runtime.nanotime1",
		"runtime.lock2", "runtime.unlock2", "runtime.selectgo", "runtime.chansend",
		"runtime.chanrecv", "runtime.concatstrings", "runtime.slicebytetostring",
		"runtime.heapBitsSetType", "runtime.typePointers.next", "runtime.(*mspan).nextFreeIndex",
		"runtime.(*mcache).refill", "runtime.(*mheap).alloc", "runtime.wbBufFlush1",
		"runtime.markBits.isMarked", "runtime.greyobject", "runtime.procyield", "runtime.asyncPreempt",
		"runtime.aeshashbody", "runtime.memequal", "runtime.cmpbody", "runtime.epollwait", "runtime.netpoll"}
	labelRoutes = []string{"/api/v1/cart", "/api/v1/checkout", "/api/v1/catalog/search",
		"/api/v1/orders", "/api/v1/users/me", "/healthz", "/metrics", "/api/v1/reco", "grpc:Inventory/Reserve",
		"grpc:Pricing/Quote", "kafka:orders.events", "cron:reindex"}
	sizeClasses = []int64{8, 16, 24, 32, 48, 64, 80, 96, 112, 128, 144, 160, 176, 192, 208, 224,
		240, 256, 288, 320, 352, 384, 416, 448, 480, 512, 576, 640, 704, 768, 896, 1024, 1152, 1280,
		1408, 1536, 1792, 2048, 2304, 2688, 3072, 3200, 3456, 4096, 4864, 5376, 6144, 6528, 6784,
		6912, 8192, 9472, 9728, 10240, 10880, 12288, 13568, 14336, 16384, 18432, 19072, 20480,
		21760, 24576, 27264, 28672, 32768, 40960, 65536, 73728, 131072, 262144, 1048576}
)

func newGen(kind string, seed int64, nFuncs int) *gen {
	r := rand.New(rand.NewSource(seed))
	g := &gen{kind: kind, seed: seed}
	type pkg struct {
		path, dir string
		layer     int
	}
	var pkgs []pkg
	app := "github.com/acme/shopd"
	for i, p := range appPkgs {
		layer := 1 + i*3/len(appPkgs) // 1..3
		if p == "cmd/shopd" {
			layer = 0
		}
		pkgs = append(pkgs, pkg{app + "/" + p, "/src/shopd/" + p, layer})
	}
	for _, m := range modules {
		ver := fmt.Sprintf("@v%d.%d.%d", 1+r.Intn(2), r.Intn(40), r.Intn(12))
		layer := 4 + r.Intn(2)
		pkgs = append(pkgs, pkg{m, "/root/go/pkg/mod/" + m + ver, layer})
		for k := 0; k < 3; k++ {
			s := subPkgs[r.Intn(len(subPkgs))]
			pkgs = append(pkgs, pkg{m + "/" + s, "/root/go/pkg/mod/" + m + ver + "/" + s, layer + r.Intn(2)})
		}
	}
	for _, p := range stdPkgs {
		layer := 6 + r.Intn(3)
		if p == "internal/poll" || p == "syscall" || p == "sync" {
			layer = 8
		}
		pkgs = append(pkgs, pkg{p, "/usr/local/go/src/" + p, layer})
	}

	seen := map[string]bool{}
	add := func(name, file string, layer int) *fn {
		f := &fn{name: name, file: file, start: 20 + r.Intn(2500), layer: layer}
		f.inline = layer > 0 && r.Intn(10) == 0
		seen[name] = true
		g.funcs = append(g.funcs, f)
		return f
	}
	g.goexit = len(g.funcs)
	add("runtime.goexit", "/usr/local/go/src/runtime/asm_amd64.s", -1).start = 1690
	add("runtime.main", "/usr/local/go/src/runtime/proc.go", 0).start = 144
	add("main.main", "/src/shopd/cmd/shopd/main.go", 0).start = 31
	for _, n := range runtimeFns {
		add(n, "/usr/local/go/src/runtime/"+strings.ToLower(strings.TrimPrefix(n, "runtime."))[:4]+".go", runtimeL)
	}
	var last string
	for len(g.funcs) < nFuncs {
		p := pkgs[r.Intn(len(pkgs))]
		base := p.path[strings.LastIndexByte(p.path, '/')+1:]
		if strings.HasPrefix(base, "v") && len(base) <= 3 { // .../pgx/v5: package pgx
			base = p.path[:strings.LastIndexByte(p.path, '/')]
			base = base[strings.LastIndexByte(base, '/')+1:]
		}
		noun := nouns[r.Intn(len(nouns))]
		verb := verbs[r.Intn(len(verbs))]
		if r.Intn(3) == 0 {
			verb += nouns[r.Intn(len(nouns))]
		}
		var name string
		switch x := r.Intn(20); {
		case x < 8:
			name = fmt.Sprintf("%s.(*%s).%s", p.path, noun, verb)
		case x < 11:
			name = fmt.Sprintf("%s.%s.%s", p.path, noun, verb)
		case x < 16:
			name = fmt.Sprintf("%s.%s", p.path, verb)
		case x < 17:
			name = fmt.Sprintf("%s.%s[...]", p.path, verb)
		default:
			if last == "" || !strings.HasPrefix(last, p.path+".") {
				continue
			}
			name = fmt.Sprintf("%s.func%d", last, 1+r.Intn(3))
		}
		if seen[name] {
			continue
		}
		file := fmt.Sprintf("%s/%s.go", p.dir, strings.ToLower(noun))
		if r.Intn(3) == 0 {
			file = fmt.Sprintf("%s/%s.go", p.dir, base)
		}
		add(name, file, p.layer)
		last = name
	}

	// Call graph: callees in the same or deeper layers, runtime last.
	byLayer := map[int][]int{}
	for i, f := range g.funcs {
		if f.layer >= 0 {
			byLayer[f.layer] = append(byLayer[f.layer], i)
		}
	}
	for i, f := range g.funcs {
		if f.layer < 0 {
			continue
		}
		n := 2 + r.Intn(7)
		for k := 0; k < n; k++ {
			l := f.layer
			switch x := r.Intn(20); {
			case x < 2:
				l = runtimeL
			case x < 6:
				l++
			case x < 7:
				l += 2
			}
			if l > runtimeL {
				l = runtimeL
			}
			if len(byLayer[l]) == 0 {
				continue
			}
			c := byLayer[l][r.Intn(len(byLayer[l]))]
			if c != i {
				f.callees = append(f.callees, c)
				if l != runtimeL {
					f.userCallees = append(f.userCallees, c)
				}
			}
		}
	}
	g.entries = append(g.entries, 1) // runtime.main
	g.funcs[1].callees = []int{2}
	g.funcs[1].userCallees = []int{2}
	for _, i := range byLayer[0][2:] {
		g.entries = append(g.entries, i)
	}
	for _, i := range byLayer[1] {
		if r.Intn(4) == 0 {
			g.entries = append(g.entries, i)
		}
	}
	for _, i := range byLayer[4] {
		if r.Intn(6) == 0 {
			g.entries = append(g.entries, i)
		}
	}
	return g
}

func (g *gen) reset() {
	g.mapping = &profile.Mapping{ID: 1, Start: textStart, Limit: textStart + 0x2000 + uint64(len(g.funcs))*0x2000,
		File: "/usr/local/bin/shopd", BuildID: fmt.Sprintf("%040x", uint64(g.seed)*0x9e3779b97f4a7c15),
		HasFunctions: true, HasFilenames: true, HasLineNumbers: true, HasInlineFrames: true}
	g.vdso = &profile.Mapping{ID: 2, Start: 0x7ffd5b9f2000, Limit: 0x7ffd5b9f4000, File: "[vdso]",
		HasFunctions: true, HasFilenames: true, HasLineNumbers: true, HasInlineFrames: true}
	g.locs = map[uint64]*profile.Location{}
	for i, f := range g.funcs {
		f.pf = &profile.Function{ID: uint64(i + 1), Name: f.name, SystemName: f.name,
			Filename: f.file, StartLine: int64(f.start)}
	}
}

// ---- stacks ----

type frame struct {
	f    int
	line int
}

// siteLine is the line in f of its call to callee (the same every time).
func siteLine(f *fn, caller, callee int) int {
	h := (uint64(caller)<<32 | uint64(callee)) * 0x9e3779b97f4a7c15
	return f.start + 1 + int(h>>40%180)
}

// stack returns a random call path, root first, or nil if the walk got
// stuck before minDepth. Heap stacks never end in the runtime (the runtime
// hides its own frames at the top of them); CPU stacks may end in up to 5
// runtime frames.
func (g *gen) stack(r *rand.Rand) []frame {
	depth := minDepth + int(float64(maxDepth-minDepth)*math.Pow(r.Float64(), 1.6))
	cur := g.entries[int(float64(len(g.entries))*math.Pow(r.Float64(), 2))]
	st := []frame{{g.goexit, 1701}, {cur, 0}}
	for len(st) < depth {
		if f := g.funcs[cur]; f.layer == runtimeL {
			if rt := len(st) - 1 - g.firstRuntime(st); rt >= 5 || r.Intn(2) == 0 {
				break
			}
		}
		cands := g.funcs[cur].userCallees
		if g.kind == "cpu" && len(st) >= minDepth-1 {
			cands = g.funcs[cur].callees
		}
		if len(cands) == 0 {
			break
		}
		next := cands[int(float64(len(cands))*math.Pow(r.Float64(), 1.5))]
		st[len(st)-1].line = siteLine(g.funcs[cur], cur, next)
		st = append(st, frame{next, 0})
		cur = next
	}
	if len(st) < minDepth {
		return nil
	}
	leaf := &st[len(st)-1]
	leaf.line = g.funcs[leaf.f].start + 1 + r.Intn(120)
	return st
}

func (g *gen) firstRuntime(st []frame) int {
	i := len(st) - 1
	for i > 0 && g.funcs[st[i-1].f].layer == runtimeL {
		i--
	}
	return i
}

// locations groups frames into locations, leaf first; an inlined function
// shares its caller's location (Line[0] is the innermost).
func (g *gen) locations(st []frame) []*profile.Location {
	var out []*profile.Location
	for i := len(st) - 1; i >= 0; {
		j := i
		for j > 0 && g.funcs[st[j].f].inline {
			j--
		}
		key := uint64(14695981039346656037)
		for k := i; k >= j; k-- {
			key = (key ^ uint64(st[k].f)<<20 ^ uint64(st[k].line)) * 1099511628211
		}
		loc := g.locs[key]
		if loc == nil {
			outer := st[j]
			loc = &profile.Location{ID: uint64(len(g.locs) + 1), Mapping: g.mapping,
				Address: textStart + 0x1000 + uint64(outer.f)*0x2000 + uint64(outer.line-g.funcs[outer.f].start)*24 + uint64(i-j)}
			for k := i; k >= j; k-- {
				loc.Line = append(loc.Line, profile.Line{Function: g.funcs[st[k].f].pf, Line: int64(st[k].line)})
			}
			g.locs[key] = loc
		}
		out = append(out, loc)
		i = j - 1
	}
	return out
}

// ---- samples ----

// scaleHeap is the runtime's scaling of a sampled heap record.
func scaleHeap(count, size int64) (int64, int64) {
	if count == 0 || size == 0 {
		return 0, 0
	}
	avg := float64(size) / float64(count)
	scale := 1 / (1 - math.Exp(-avg/memRate))
	return int64(float64(count) * scale), int64(float64(size) * scale)
}

// heavy returns a number in [1, max], mostly small.
func heavy(r *rand.Rand, max float64) int64 {
	return int64(math.Pow(max, math.Pow(r.Float64(), 3)))
}

func (g *gen) profile(n int) *profile.Profile {
	g.reset()
	r := rand.New(rand.NewSource(g.seed*7919 + 17))
	p := &profile.Profile{TimeNanos: 1798761600_000000000, Mapping: []*profile.Mapping{g.mapping, g.vdso}}
	if g.kind == "heap" {
		p.SampleType = []*profile.ValueType{{Type: "alloc_objects", Unit: "count"}, {Type: "alloc_space", Unit: "bytes"},
			{Type: "inuse_objects", Unit: "count"}, {Type: "inuse_space", Unit: "bytes"}}
		p.PeriodType = &profile.ValueType{Type: "space", Unit: "bytes"}
		p.Period = memRate
	} else {
		p.SampleType = []*profile.ValueType{{Type: "samples", Unit: "count"}, {Type: "cpu", Unit: "nanoseconds"}}
		p.PeriodType = &profile.ValueType{Type: "cpu", Unit: "nanoseconds"}
		p.Period = cpuPeriod
	}
	seen := map[string]bool{} // Go writes one sample per stack and size (heap) or label set (cpu)
	var total int64
	for len(p.Sample) < n {
		st := g.stack(r)
		if st == nil {
			continue
		}
		h := uint64(14695981039346656037)
		for _, fr := range st {
			h = (h ^ uint64(fr.f)<<20 ^ uint64(fr.line)) * 1099511628211
		}
		s := &profile.Sample{}
		var tag string
		if g.kind == "heap" {
			size := sizeClasses[int(float64(len(sizeClasses))*math.Pow(r.Float64(), 1.8))]
			if size > 32768 {
				size = (size + int64(r.Intn(64))*8192) &^ 8191
			}
			// Sampled object counts: mostly 1, a long tail; most
			// buckets have nothing left in use.
			allocs := heavy(r, 2000)
			inuse := int64(0)
			if r.Intn(20) == 0 {
				inuse = heavy(r, float64(allocs))
			}
			ao, as := scaleHeap(allocs, allocs*size)
			ino, ins := scaleHeap(inuse, inuse*size)
			s.Value = []int64{ao, as, ino, ins}
			s.NumLabel = map[string][]int64{"bytes": {size}}
			tag = fmt.Sprint(size)
		} else {
			c := heavy(r, 200)
			s.Value = []int64{c, c * cpuPeriod}
			if r.Intn(3) == 0 {
				s.Label = map[string][]string{"route": {labelRoutes[r.Intn(len(labelRoutes))]}}
				if r.Intn(2) == 0 {
					s.Label["tenant"] = []string{fmt.Sprintf("t%03d", r.Intn(200))}
				}
				tag = fmt.Sprint(s.Label)
			}
		}
		key := fmt.Sprintf("%x/%s", h, tag)
		if seen[key] {
			continue
		}
		seen[key] = true
		if g.kind == "cpu" {
			total += s.Value[1]
		}
		s.Location = g.locations(st)
		p.Sample = append(p.Sample, s)
	}
	if g.kind == "cpu" {
		p.DurationNanos = total / 8 // as if 8 CPUs were busy
	}
	p.Location = make([]*profile.Location, len(g.locs))
	for _, l := range g.locs {
		p.Location[l.ID-1] = l
	}
	used := map[*profile.Function]bool{}
	for _, l := range p.Location {
		for _, ln := range l.Line {
			used[ln.Function] = true
		}
	}
	for _, f := range g.funcs {
		if used[f.pf] {
			p.Function = append(p.Function, f.pf)
		}
	}
	return p
}

func (g *gen) encode(n int) []byte {
	p := g.profile(n)
	if err := p.CheckValid(); err != nil {
		panic(err)
	}
	var buf bytes.Buffer
	zw, _ := gzip.NewWriterLevel(&buf, gzip.BestSpeed)
	if err := p.WriteUncompressed(zw); err != nil {
		panic(err)
	}
	if err := zw.Close(); err != nil {
		panic(err)
	}
	return buf.Bytes()
}
