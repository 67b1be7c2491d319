// Command loadtarget is the service under load in bench/scan.sh: an HTTP
// server with a cheap handler, net/http/pprof on the same mux, and N parked
// goroutines shaped like those of a busy service (workers waiting for jobs,
// sessions waiting on a far-away timeout, consumers waiting on a condition
// variable, results nobody reads), a few frames deep.
//
// Usage: loadtarget [-addr 127.0.0.1:0] [-goroutines 10000]
//
// It prints "listening on http://ADDR" on stdout once every goroutine is
// parked, and serves until killed.
package main

import (
	"encoding/json"
	"flag"
	"fmt"
	"log"
	"net"
	"net/http"
	"net/http/pprof"
	"os"
	"runtime"
	"strconv"
	"sync"
	"time"
)

var (
	flagAddr       = flag.String("addr", "127.0.0.1:0", "listen address (port 0: any free port)")
	flagGoroutines = flag.Int("goroutines", 10000, "goroutines to park before serving")
)

// ---- the parked goroutines ----

// Shared objects the goroutines wait on; nothing ever signals them.
type park struct {
	jobs    chan int      // workers wait for jobs
	quit    chan struct{} // sessions wait for shutdown or a timeout
	mu      sync.Mutex
	cond    *sync.Cond // consumers wait for items
	pending []int
	results chan int // unbuffered and never read: the classic leak
}

func newPark() *park {
	p := &park{jobs: make(chan int), quit: make(chan struct{}), results: make(chan int)}
	p.cond = sync.NewCond(&p.mu)
	return p
}

// Each kind descends a few frames before it blocks, so the dump has stacks
// of several depths per kind, as request handlers and pools do.

//go:noinline
func (p *park) worker(depth int, ready *sync.WaitGroup) int {
	if depth > 0 {
		return p.worker(depth-1, ready) + 1
	}
	ready.Done()
	n := 0
	for j := range p.jobs {
		n += j
	}
	return n
}

//go:noinline
func (p *park) session(depth int, ready *sync.WaitGroup) int {
	if depth > 0 {
		return p.session(depth-1, ready) + 1
	}
	idle := time.NewTimer(24 * time.Hour)
	defer idle.Stop()
	ready.Done()
	select {
	case <-p.quit:
	case <-idle.C:
	}
	return 0
}

//go:noinline
func (p *park) consumer(depth int, ready *sync.WaitGroup) int {
	if depth > 0 {
		return p.consumer(depth-1, ready) + 1
	}
	p.mu.Lock()
	ready.Done()
	for len(p.pending) == 0 {
		p.cond.Wait()
	}
	v := p.pending[0]
	p.pending = p.pending[1:]
	p.mu.Unlock()
	return v
}

//go:noinline
func (p *park) fetch(depth int, ready *sync.WaitGroup) int {
	if depth > 0 {
		return p.fetch(depth-1, ready) + 1
	}
	ready.Done()
	p.results <- depth // the caller gave up long ago
	return 0
}

// spawn parks n goroutines: 40% workers, 30% sessions, 20% cond waiters,
// 10% leaked senders, each 1 to 6 frames below its entry point.
func spawn(n int) {
	p := newPark()
	var ready sync.WaitGroup
	ready.Add(n)
	for i := 0; i < n; i++ {
		depth := 1 + i%6
		switch k := i % 10; {
		case k < 4:
			go p.worker(depth, &ready)
		case k < 7:
			go p.session(depth, &ready)
		case k < 9:
			go p.consumer(depth, &ready)
		default:
			go p.fetch(depth, &ready)
		}
	}
	ready.Wait()
	// Done is called just before each blocking operation: give the last
	// ones time to block.
	for i := 0; i < 10; i++ {
		runtime.Gosched()
	}
	time.Sleep(200 * time.Millisecond)
}

// ---- the service ----

type item struct {
	ID    int     `json:"id"`
	Name  string  `json:"name"`
	Price float64 `json:"price"`
	Stock int     `json:"stock"`
}

func main() {
	flag.Parse()
	log.SetFlags(0)
	log.SetPrefix("loadtarget: ")

	catalog := make(map[string]item, 1000)
	for i := 0; i < 1000; i++ {
		catalog[strconv.Itoa(i)] = item{ID: i, Name: fmt.Sprintf("item-%04d", i), Price: float64(i%97) + 0.99, Stock: i * 7 % 113}
	}

	mux := http.NewServeMux()
	mux.HandleFunc("/item", func(w http.ResponseWriter, r *http.Request) {
		id := r.URL.Query().Get("id")
		if id == "" {
			id = "42"
		}
		it, ok := catalog[id]
		if !ok {
			http.NotFound(w, r)
			return
		}
		w.Header().Set("Content-Type", "application/json")
		_ = json.NewEncoder(w).Encode(it)
	})
	mux.HandleFunc("/debug/pprof/", pprof.Index)
	mux.HandleFunc("/debug/pprof/cmdline", pprof.Cmdline)
	mux.HandleFunc("/debug/pprof/profile", pprof.Profile)
	mux.HandleFunc("/debug/pprof/symbol", pprof.Symbol)
	mux.HandleFunc("/debug/pprof/trace", pprof.Trace)

	ln, err := net.Listen("tcp", *flagAddr)
	if err != nil {
		log.Fatal(err)
	}
	start := time.Now()
	spawn(*flagGoroutines)
	fmt.Fprintf(os.Stderr, "loadtarget: %d goroutines parked in %v (%d in all)\n",
		*flagGoroutines, time.Since(start).Round(time.Millisecond), runtime.NumGoroutine())
	fmt.Printf("listening on http://%s\n", ln.Addr())
	os.Stdout.Sync()
	log.Fatal(http.Serve(ln, mux))
}
