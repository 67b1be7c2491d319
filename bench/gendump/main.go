// Command gendump writes realistic Go goroutine dumps (the debug=2 text
// format of pprof.Lookup("goroutine").WriteTo(w, 2), i.e. runtime.Stack
// with all=true) for benchmarking goroutine-dump parsers.
//
// Each dump is real: a child process spawns N goroutines in a fixed mix of
// about 60 stack shapes (leaking handlers, lock waiters, loopback IO,
// real net/http client/server conns, worker pools, timers, recursion, ...),
// lets them block, and dumps its own goroutines.
//
// Usage: gendump [-sizes 10k,100k,1m] [-mode1m real|replicate] [DIR]
//
// Files already present in DIR are kept. See bench/README.md.
package main

import (
	"bufio"
	"bytes"
	"context"
	"errors"
	"flag"
	"fmt"
	"math/rand/v2"
	"net"
	"os"
	"os/exec"
	"os/signal"
	"path/filepath"
	"runtime"
	"runtime/debug"
	"strconv"
	"strings"
	"sync/atomic"
	"syscall"
	"time"

	"example.com/reef-gendump/internal/api"
	"example.com/reef-gendump/internal/netio"
	"example.com/reef-gendump/internal/store"
	"example.com/reef-gendump/internal/worker"
)

var (
	flagSizes   = flag.String("sizes", "10k,100k,1m", "comma-separated sizes to generate (k/m suffixes)")
	flagMode1m  = flag.String("mode1m", "real", "how to make sizes >= 1m: real (spawn them all) or replicate (concatenate the 100k dump 10x with renumbered ids)")
	flagSeed    = flag.Uint64("seed", 1, "seed for the spawn order and the injected wait times")
	flagMinutes = flag.Bool("minutes", true, "add ', N minutes' wait times to most blocked goroutines, as a long-running process shows")
	flagForce   = flag.Bool("force", false, "regenerate files that already exist")
	flagOne     = flag.Int("one", 0, "internal: generate one dump of this many goroutines")
	flagOutFile = flag.String("o", "", "internal: output file for -one")
)

func main() {
	flag.Parse()
	if *flagOne > 0 {
		if err := generateOne(*flagOne, *flagOutFile); err != nil {
			fmt.Fprintln(os.Stderr, "gendump:", err)
			os.Exit(1)
		}
		return
	}
	dir := "/tmp/reef-bench"
	if flag.NArg() > 0 {
		dir = flag.Arg(0)
	}
	if err := run(dir); err != nil {
		fmt.Fprintln(os.Stderr, "gendump:", err)
		os.Exit(1)
	}
}

func parseSize(s string) (int, string, error) {
	s = strings.ToLower(strings.TrimSpace(s))
	mult := 1
	switch {
	case strings.HasSuffix(s, "k"):
		mult, s = 1000, strings.TrimSuffix(s, "k")
	case strings.HasSuffix(s, "m"):
		mult, s = 1000000, strings.TrimSuffix(s, "m")
	}
	n, err := strconv.Atoi(s)
	if err != nil || n <= 0 {
		return 0, "", fmt.Errorf("bad size %q", s)
	}
	return n * mult, "g" + s + map[int]string{1: "", 1000: "k", 1000000: "m"}[mult] + ".txt", nil
}

func run(dir string) error {
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return err
	}
	self, err := os.Executable()
	if err != nil {
		return err
	}
	var names []string
	for _, s := range strings.Split(*flagSizes, ",") {
		n, name, err := parseSize(s)
		if err != nil {
			return err
		}
		names = append(names, name)
		path := filepath.Join(dir, name)
		if st, err := os.Stat(path); err == nil && st.Size() > 0 && !*flagForce {
			fmt.Fprintf(os.Stderr, "gendump: %s exists, kept\n", path)
			continue
		}
		t0 := time.Now()
		if n >= 1000000 && *flagMode1m == "replicate" {
			src := filepath.Join(dir, "g100k.txt")
			if _, err := os.Stat(src); err != nil {
				if err := runChild(self, 100000, src); err != nil {
					return err
				}
			}
			if err := replicate(src, path, n/100000); err != nil {
				return err
			}
		} else if err := runChild(self, n, path); err != nil {
			return err
		}
		fmt.Fprintf(os.Stderr, "gendump: wrote %s in %.1fs\n", path, time.Since(t0).Seconds())
	}
	return writeSizes(dir, names)
}

func runChild(self string, n int, path string) error {
	tmp := path + ".tmp"
	cmd := exec.Command(self, "-one", strconv.Itoa(n), "-o", tmp,
		"-seed", strconv.FormatUint(*flagSeed, 10), "-minutes="+strconv.FormatBool(*flagMinutes))
	cmd.Stdout, cmd.Stderr = os.Stderr, os.Stderr
	if err := cmd.Run(); err != nil {
		os.Remove(tmp)
		return fmt.Errorf("generating %s: %w", path, err)
	}
	return os.Rename(tmp, path)
}

// writeSizes records bytes and goroutine count of each file in sizes.txt.
func writeSizes(dir string, names []string) error {
	var b strings.Builder
	fmt.Fprintf(&b, "%-12s %14s %8s %10s\n", "file", "bytes", "MB", "goroutines")
	for _, name := range names {
		path := filepath.Join(dir, name)
		st, err := os.Stat(path)
		if err != nil {
			return err
		}
		n, err := countGoroutines(path)
		if err != nil {
			return err
		}
		fmt.Fprintf(&b, "%-12s %14d %8.1f %10d\n", name, st.Size(), float64(st.Size())/1e6, n)
	}
	os.Stdout.WriteString(b.String())
	return os.WriteFile(filepath.Join(dir, "sizes.txt"), []byte(b.String()), 0o644)
}

func countGoroutines(path string) (int, error) {
	f, err := os.Open(path)
	if err != nil {
		return 0, err
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	sc.Buffer(make([]byte, 1<<20), 1<<26)
	n := 0
	for sc.Scan() {
		if bytes.HasPrefix(sc.Bytes(), []byte("goroutine ")) {
			n++
		}
	}
	return n, sc.Err()
}

// replicate writes copies of src one after another; copy k adds k*base to
// every goroutine id (headers and "created by ... in goroutine N").
func replicate(src, dst string, copies int) error {
	maxID, err := maxGoroutineID(src)
	if err != nil {
		return err
	}
	base := int64(1)
	for base <= maxID {
		base *= 10
	}
	out, err := os.Create(dst + ".tmp")
	if err != nil {
		return err
	}
	w := bufio.NewWriterSize(out, 1<<20)
	for k := 0; k < copies; k++ {
		if k > 0 {
			w.WriteString("\n")
		}
		if err := copyRenumbered(w, src, int64(k)*base); err != nil {
			out.Close()
			return err
		}
	}
	if err := w.Flush(); err != nil {
		return err
	}
	if err := out.Close(); err != nil {
		return err
	}
	return os.Rename(dst+".tmp", dst)
}

func eachLine(path string, fn func(line []byte) error) error {
	f, err := os.Open(path)
	if err != nil {
		return err
	}
	defer f.Close()
	r := bufio.NewReaderSize(f, 1<<20)
	for {
		line, err := r.ReadSlice('\n')
		if len(line) > 0 {
			if e := fn(line); e != nil {
				return e
			}
		}
		if err == bufio.ErrBufferFull {
			return errors.New("line too long")
		}
		if err != nil {
			if err.Error() == "EOF" {
				return nil
			}
			return err
		}
	}
}

func maxGoroutineID(path string) (int64, error) {
	var max int64
	err := eachLine(path, func(line []byte) error {
		if id, _, ok := headerID(line); ok && id > max {
			max = id
		}
		return nil
	})
	return max, err
}

// headerID returns the id of a "goroutine N [...]" line and where the id ends.
func headerID(line []byte) (int64, int, bool) {
	if !bytes.HasPrefix(line, []byte("goroutine ")) {
		return 0, 0, false
	}
	i := len("goroutine ")
	j := i
	for j < len(line) && line[j] >= '0' && line[j] <= '9' {
		j++
	}
	id, err := strconv.ParseInt(string(line[i:j]), 10, 64)
	return id, j, err == nil
}

func copyRenumbered(w *bufio.Writer, src string, off int64) error {
	createdIn := []byte(" in goroutine ")
	return eachLine(src, func(line []byte) error {
		if off == 0 {
			_, err := w.Write(line)
			return err
		}
		if id, end, ok := headerID(line); ok {
			w.WriteString("goroutine ")
			w.WriteString(strconv.FormatInt(id+off, 10))
			_, err := w.Write(line[end:])
			return err
		}
		if bytes.HasPrefix(line, []byte("created by ")) {
			if k := bytes.LastIndex(line, createdIn); k >= 0 {
				numStart := k + len(createdIn)
				numEnd := numStart
				for numEnd < len(line) && line[numEnd] >= '0' && line[numEnd] <= '9' {
					numEnd++
				}
				if id, err := strconv.ParseInt(string(line[numStart:numEnd]), 10, 64); err == nil {
					w.Write(line[:numStart])
					w.WriteString(strconv.FormatInt(id+off, 10))
					_, err := w.Write(line[numEnd:])
					return err
				}
			}
		}
		_, err := w.Write(line)
		return err
	})
}

// ---------------------------------------------------------------------
// The child: spawn N goroutines, let them block, dump.

var readyCount atomic.Int64

func ready() { readyCount.Add(1) }

// shape is one kind of stack. weight is per mille of N; per is how many
// goroutines one unit leaves behind; max caps units (file descriptors,
// kernel socket memory, OS threads).
type shape struct {
	name   string
	weight int
	per    int
	max    int
	async  bool // starts goroutines that appear later (HTTP conns)
	prep   func(units int) error
	unit   func(i int)
}

type env struct {
	n       int
	srv     *api.Server
	httpSrv *api.HTTP
	client  *api.Client
	cache   *store.Cache
	stats   *store.Stats
	typed   *store.TypedCache[string, []byte]
	queue   *store.Queue
	loader  *store.Loader
	batch   *store.Batch
	pool    *worker.Pool
	pipe    *worker.Pipeline
	svc     *worker.Service
	block   chan struct{}
	ln      net.Listener
	ctx     context.Context
	nilCh   chan int
	readers [][2]net.Conn
	framers [][2]net.Conn
	writers [][2]net.Conn
	proxies [][2]net.Conn
	accepts []net.Listener
	blob    []byte
}

func (e *env) holder(f func(ready func())) {
	started := make(chan struct{})
	go f(func() { close(started) })
	<-started
}

func (e *env) pairs(n int) ([][2]net.Conn, error) {
	if e.ln == nil {
		ln, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			return nil, err
		}
		e.ln = ln
	}
	return netio.Pairs(e.ln, n)
}

func (e *env) shapes() []shape {
	leak := func(depth int) func(int) {
		return func(i int) { go e.srv.HandleOrder(e.ctx, i, depth, ready) }
	}
	return []shape{
		// Leaking handlers: chan send at depths 1..6 (depth 3 dominates).
		{name: "order-leak-d1", weight: 40, per: 1, unit: leak(1)},
		{name: "order-leak-d2", weight: 30, per: 1, unit: leak(2)},
		{name: "order-leak-d3", weight: 140, per: 1, unit: leak(3)},
		{name: "order-leak-d4", weight: 30, per: 1, unit: leak(4)},
		{name: "order-leak-d5", weight: 20, per: 1, unit: leak(5)},
		{name: "order-leak-d6", weight: 20, per: 1, unit: leak(6)},
		// Fan-out leaks: goroutines created by a goroutine that has exited.
		{name: "search-fanout-send", weight: 60, per: 3, async: true, unit: func(i int) {
			go e.srv.HandleSearch(e.ctx, "q"+strconv.Itoa(i), 4, false, ready)
		}},
		{name: "search-fanout-select", weight: 30, per: 2, async: true, unit: func(i int) {
			go e.srv.HandleSearch(e.ctx, "q"+strconv.Itoa(i), 3, true, ready)
		}},
		{name: "nil-chan-send", weight: 5, per: 1, unit: func(i int) {
			go func() { ready(); e.nilCh <- i }()
		}},
		{name: "nil-chan-recv", weight: 5, per: 1, unit: func(i int) {
			go func() { ready(); <-e.nilCh }()
		}},
		{name: "select-no-cases", weight: 5, per: 1, unit: func(i int) {
			go func() { ready(); select {} }()
		}},
		// Real HTTP over loopback: client caller + transport read/write loops + server conn.
		{name: "http-orders-blocked", weight: 40, per: 4, max: 1500, async: true, prep: e.prepHTTP, unit: func(i int) {
			go e.client.FetchOrder(e.httpSrv.URL, i, 1+i%6)
		}},
		{name: "http-stream-blocked", weight: 10, per: 4, max: 300, async: true, prep: e.prepHTTP, unit: func(i int) {
			go e.client.Subscribe(e.httpSrv.URL)
		}},
		{name: "http-idle-keepalive", weight: 10, per: 3, max: 400, async: true, prep: e.prepHTTP, unit: func(i int) {
			_ = api.Ping(e.httpSrv.URL)
		}},
		// Locks.
		{name: "cache-get-mutex", weight: 40, per: 1, prep: e.prepCache, unit: func(i int) {
			go e.cache.Get("k"+strconv.Itoa(i), ready)
		}},
		{name: "cache-set-mutex", weight: 20, per: 1, prep: e.prepCache, unit: func(i int) {
			go e.cache.Set("k"+strconv.Itoa(i), nil, ready)
		}},
		{name: "cache-refresh-mutex", weight: 20, per: 1, prep: e.prepCache, unit: func(i int) {
			go e.cache.Refresh([]string{"a", "b"}, ready)
		}},
		{name: "stats-inc-rwlock", weight: 10, per: 1, prep: e.prepStats, unit: func(i int) {
			go e.stats.Inc("requests", ready)
		}},
		{name: "stats-read-rlock", weight: 30, per: 1, prep: e.prepStats, unit: func(i int) {
			go e.stats.Read("requests", ready)
		}},
		{name: "typed-cache-load", weight: 20, per: 1, prep: e.prepTyped, unit: func(i int) {
			go e.typed.Load("user:"+strconv.Itoa(i), ready)
		}},
		{name: "queue-cond-wait", weight: 20, per: 1, unit: func(i int) { go e.queue.Pop(ready) }},
		{name: "loader-once", weight: 10, per: 1, prep: e.prepLoader, unit: func(i int) {
			go e.loader.Config("db", ready)
		}},
		{name: "batch-wait", weight: 10, per: 1, unit: func(i int) { go e.batch.Wait(ready) }},
		{name: "batch-flush", weight: 10, per: 1, unit: func(i int) { go e.batch.Flush(i, ready) }},
		// Worker machinery.
		{name: "pool-range-idle", weight: 60, per: 1, unit: func(i int) { e.pool.StartRange(i, ready) }},
		{name: "pool-select-idle", weight: 40, per: 1, unit: func(i int) { e.pool.StartSelect(i, ready) }},
		{name: "pipeline-generate", weight: 5, per: 1, unit: func(i int) { go e.pipe.Generate(i, ready) }},
		{name: "pipeline-transform", weight: 10, per: 1, unit: func(i int) { go e.pipe.Transform(i, ready) }},
		{name: "pipeline-sink", weight: 5, per: 1, unit: func(i int) { go e.pipe.Sink(ready) }},
		{name: "heartbeat-ticker", weight: 20, per: 1, unit: func(i int) { go worker.HeartbeatLoop(e.block, ready) }},
		{name: "retry-sleep", weight: 30, per: 1, unit: func(i int) {
			go worker.RetryWithBackoff(func() error { return errors.New("unavailable") }, ready)
		}},
		{name: "closure-sleep", weight: 10, per: 1, unit: func(i int) {
			go func() { ready(); time.Sleep(time.Duration(1+i%5) * time.Hour) }()
		}},
		{name: "wait-timeout", weight: 10, per: 1, unit: func(i int) { go worker.WaitTimeout(ready) }},
		{name: "await-timer", weight: 10, per: 1, unit: func(i int) { go worker.AwaitTimer(ready) }},
		{name: "watch-context", weight: 20, per: 1, unit: func(i int) {
			go worker.WatchContext(e.ctx, "watch", ready)
		}},
		{name: "service-run-method-value", weight: 20, per: 1, unit: func(i int) { go e.svc.Run(ready) }},
		{name: "supervisor-grandchild", weight: 10, per: 1, async: true, unit: func(i int) { go worker.Supervisor(e.block, ready) }},
		{name: "waitgroup-go", weight: 10, per: 2, async: true, unit: func(i int) { go worker.Group(e.block, ready) }},
		// Recursion (depth 150 gets "...N frames elided...").
		{name: "walk-20-chan", weight: 10, per: 1, unit: func(i int) {
			go worker.Walk(&worker.Node{Depth: i}, 20, func() { ready(); <-e.block })
		}},
		{name: "walk-60-mutex", weight: 5, per: 1, prep: e.prepCache, unit: func(i int) {
			go worker.Walk(&worker.Node{Depth: i}, 60, func() { e.cache.Get("deep", ready) })
		}},
		{name: "walk-150-select", weight: 3, per: 1, unit: func(i int) {
			go worker.Walk(&worker.Node{Depth: i}, 150, func() {
				ready()
				select {
				case <-e.block:
				case <-e.ctx.Done():
				}
			})
		}},
		{name: "even-odd-sleep", weight: 5, per: 1, unit: func(i int) {
			go worker.Even(33+i%2, func() { ready(); time.Sleep(time.Hour) })
		}},
		// Loopback sockets.
		{name: "conn-readline", weight: 30, per: 1, prep: func(u int) (err error) {
			e.readers, err = e.pairs(min(u/2+1, 1500))
			return
		}, unit: func(i int) {
			p := e.readers[(i/2)%len(e.readers)]
			go netio.ReadLine(p[i%2], ready)
		}},
		{name: "conn-readframe", weight: 10, per: 1, prep: func(u int) (err error) {
			e.framers, err = e.pairs(min(u, 500))
			return
		}, unit: func(i int) {
			go netio.ReadFrame(e.framers[i%len(e.framers)][0], ready)
		}},
		{name: "conn-write-full", weight: 5, per: 1, prep: func(u int) (err error) {
			e.blob = make([]byte, 4<<20)
			e.writers, err = e.pairs(min(u, 16))
			return
		}, unit: func(i int) {
			go netio.WriteBlob(e.writers[i%len(e.writers)][0], e.blob, ready)
		}},
		{name: "listener-accept", weight: 3, per: 1, prep: func(u int) error {
			for k := 0; k < min(u, 8); k++ {
				ln, err := net.Listen("tcp", "127.0.0.1:0")
				if err != nil {
					return err
				}
				e.accepts = append(e.accepts, ln)
			}
			return nil
		}, unit: func(i int) { go netio.AcceptLoop(e.accepts[i%len(e.accepts)], ready) }},
		{name: "proxy-splice", weight: 5, per: 1, max: 250, prep: func(u int) (err error) {
			e.proxies, err = e.pairs(2 * min(u, 250))
			return
		}, unit: func(i int) {
			go netio.Proxy(e.proxies[2*i][0], e.proxies[2*i+1][1], ready)
		}},
	}
}

func (e *env) prepHTTP(int) (err error) {
	if e.httpSrv == nil {
		e.httpSrv, err = api.StartHTTP(e.srv)
		e.client = api.NewClient()
	}
	return
}

func (e *env) prepCache(int) error {
	if e.cache == nil {
		e.cache = store.NewCache()
		e.holder(e.cache.Compact)
	}
	return nil
}

func (e *env) prepStats(int) error {
	if e.stats == nil {
		e.stats = store.NewStats()
		e.holder(func(r func()) { e.stats.Snapshot(r) })
	}
	return nil
}

func (e *env) prepTyped(int) error {
	if e.typed == nil {
		e.typed = store.NewTypedCache[string, []byte]()
		e.holder(func(r func()) { e.typed.Hold(e.block, r) })
	}
	return nil
}

func (e *env) prepLoader(int) error {
	if e.loader == nil {
		e.loader = store.NewLoader()
		e.holder(e.loader.Init)
	}
	return nil
}

// fixed adds the few goroutines whose count does not scale with N.
func (e *env) fixed() error {
	sigc := make(chan os.Signal, 1)
	signal.Notify(sigc, syscall.SIGUSR1, syscall.SIGHUP)
	go func() {
		ready()
		for s := range sigc {
			_ = s
		}
	}()
	for k := 0; k < 3; k++ { // ", locked to thread"
		go func() {
			runtime.LockOSThread()
			ready()
			<-e.block
		}()
	}
	for k := 0; k < 2; k++ { // "[syscall]" on a blocking pipe
		var fds [2]int
		if err := syscall.Pipe(fds[:]); err != nil {
			return err
		}
		go netio.BlockingRead(fds[0], ready)
	}
	return nil
}

func generateOne(n int, out string) error {
	debug.SetGCPercent(400)
	t0 := time.Now()
	e := &env{
		n: n, srv: api.NewServer(), queue: store.NewQueue(), batch: store.NewBatch(),
		pool: worker.NewPool(), pipe: worker.NewPipeline(), svc: worker.NewService("billing"),
		block: make(chan struct{}), ctx: context.Background(),
	}
	var cancel context.CancelFunc
	e.ctx, cancel = context.WithCancel(e.ctx)
	defer cancel()

	shapes := e.shapes()
	total := 0
	for _, s := range shapes {
		total += s.weight
	}
	var order []int
	for k, s := range shapes {
		units := n * s.weight / total / s.per
		if s.max > 0 && units > s.max {
			units = s.max
		}
		if units == 0 {
			units = 1
		}
		if s.prep != nil {
			if err := s.prep(units); err != nil {
				return fmt.Errorf("%s: %w", s.name, err)
			}
		}
		for u := 0; u < units; u++ {
			order = append(order, k)
		}
	}
	if err := e.fixed(); err != nil {
		return err
	}
	rng := rand.New(rand.NewPCG(*flagSeed, uint64(n)))
	rng.Shuffle(len(order), func(a, b int) { order[a], order[b] = order[b], order[a] })
	idx := make([]int, len(shapes))
	// Some units start goroutines asynchronously (HTTP conns), so stop a
	// little short of n and top up once everything has settled.
	margin, settled := 8+n/50, false
	for _, k := range order {
		if runtime.NumGoroutine()+shapes[k].per+margin > n {
			if settled {
				break
			}
			settle()
			margin, settled = 4, true
		}
		if settled && shapes[k].async {
			continue
		}
		shapes[k].unit(idx[k])
		idx[k]++
	}
	go func() { // one runnable goroutine
		for {
			runtime.Gosched()
		}
	}()
	settle()
	// Top up with the dominant leak so the dump has exactly n goroutines.
	for i := 0; runtime.NumGoroutine() < n; i++ {
		go e.srv.HandleOrder(e.ctx, 1000000000+i, 3, ready)
	}
	settle()
	spawned := time.Since(t0)

	t1 := time.Now()
	buf := make([]byte, n*2048+(1<<20))
	var sz int
	for {
		sz = runtime.Stack(buf, true)
		if sz < len(buf) {
			break
		}
		buf = make([]byte, 2*len(buf))
	}
	buf = buf[:sz]
	dumped := time.Since(t1)

	f, err := os.Create(out)
	if err != nil {
		return err
	}
	w := bufio.NewWriterSize(f, 1<<20)
	if err := rewrite(w, buf, *flagSeed); err != nil {
		return err
	}
	if err := w.Flush(); err != nil {
		return err
	}
	if err := f.Close(); err != nil {
		return err
	}
	var ru syscall.Rusage
	_ = syscall.Getrusage(syscall.RUSAGE_SELF, &ru)
	fmt.Fprintf(os.Stderr, "gendump: n=%d shapes=%d goroutines=%d spawn=%.1fs dump=%.1fs bytes=%d maxrss=%dMB\n",
		n, len(shapes), runtime.NumGoroutine(), spawned.Seconds(), dumped.Seconds(), sz, ru.Maxrss/1024)
	return nil
}

// settle waits until no goroutine reports ready for a while.
func settle() {
	last, lastG := int64(-1), -1
	stable := 0
	deadline := time.Now().Add(2 * time.Minute)
	for stable < 3 && time.Now().Before(deadline) {
		time.Sleep(200 * time.Millisecond)
		c, g := readyCount.Load(), runtime.NumGoroutine()
		if c == last && g == lastG {
			stable++
		} else {
			stable = 0
		}
		last, lastG = c, g
	}
}

// rewrite copies the dump, adding ", N minutes" to most blocked goroutines'
// headers (a fixed function of the goroutine's position and the seed).
func rewrite(w *bufio.Writer, buf []byte, seed uint64) error {
	ord := uint64(0)
	for len(buf) > 0 {
		nl := bytes.IndexByte(buf, '\n')
		var line []byte
		if nl < 0 {
			line, buf = buf, nil
		} else {
			line, buf = buf[:nl+1], buf[nl+1:]
		}
		if *flagMinutes && bytes.HasPrefix(line, []byte("goroutine ")) {
			ord++
			if m := minutesFor(ord, seed); m > 0 {
				if out, ok := withMinutes(line, m); ok {
					line = out
				}
			}
		}
		if _, err := w.Write(line); err != nil {
			return err
		}
	}
	return nil
}

func minutesFor(ord, seed uint64) int {
	x := ord*0x9E3779B97F4A7C15 ^ seed
	x ^= x >> 31
	x *= 0xBF58476D1CE4E5B9
	x ^= x >> 29
	if x%100 >= 75 {
		return 0
	}
	// Mostly a few minutes, with a long tail up to about a week.
	return 1 + int((x>>8)%60)*int(1+(x>>20)%((x>>40)%168+1))
}

func withMinutes(line []byte, m int) ([]byte, bool) {
	open := bytes.IndexByte(line, '[')
	end := bytes.LastIndex(line, []byte("]:"))
	if open < 0 || end < open {
		return nil, false
	}
	status := string(line[open+1 : end])
	if strings.HasPrefix(status, "running") || strings.HasPrefix(status, "runnable") ||
		strings.Contains(status, "minutes") {
		return nil, false
	}
	at := end
	if k := strings.Index(status, ", locked to thread"); k >= 0 {
		at = open + 1 + k
	}
	out := make([]byte, 0, len(line)+16)
	out = append(out, line[:at]...)
	out = append(out, ", "...)
	out = strconv.AppendInt(out, int64(m), 10)
	out = append(out, " minutes"...)
	out = append(out, line[at:]...)
	return out, true
}
