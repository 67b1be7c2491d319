// Command load drives real Go servers on loopback into the healthy and
// failing states that tests/realworld/capture.sh records.
//
//	load MODE [flags]
//
// Every mode starts its load, prints "ready" and one "fact NAME VALUE" line
// per thing it knows it made (connections, requests in flight, watches), then
// keeps the state until its standard input closes or -hold has passed.  The
// facts are the independent truth the captures are checked against: the
// driver counts what it started, reef is not asked.
//
// Load is bounded: a fixed number of connections, a fixed number of messages
// or a fixed request rate, and nothing outlives -hold.
//
// Only the standard library is used (NATS' text protocol and etcd's JSON
// gateway are spoken directly), so the driver builds offline.
package main

import (
	"flag"
	"fmt"
	"io"
	"os"
	"sync/atomic"
	"time"
)

var (
	hold = flag.Duration("hold", 3*time.Minute, "keep the state at most this long")
	n    = flag.Int("n", 100, "connections, requests or watches")
)

type mode struct {
	help string
	run  func(args []string) error
}

var modes = map[string]mode{
	"nats-ok":    {"N subscribers that read, one publisher at a modest rate", natsOK},
	"nats-slow":  {"N subscribers that never read, one publisher that fills their buffers", natsSlow},
	"proxy-ok":   {"a backend that answers, N/2 HTTP/1.1 and N/2 h2c keep-alive clients through the proxy", proxyOK},
	"proxy-hang": {"a backend that never answers, N requests through the proxy without a timeout", proxyHang},
	"etcd-ok":    {"N open watches over etcd's gateway and a modest put/range load", etcdOK},
	"etcd-slow":  {"N watches whose clients stop reading, and puts to the watched key", etcdSlow},
	"replay":     {"serve a capture directory's dumps, heap and /metrics as pprof endpoints", replay},
}

func usage() {
	fmt.Fprintf(os.Stderr, "usage: load MODE [flags]\nmodes:\n")
	for name, m := range modes {
		fmt.Fprintf(os.Stderr, "  %-11s %s\n", name, m.help)
	}
	flag.PrintDefaults()
	os.Exit(2)
}

func main() {
	if len(os.Args) < 2 {
		usage()
	}
	m, ok := modes[os.Args[1]]
	if !ok {
		usage()
	}
	if err := m.run(os.Args[2:]); err != nil {
		fmt.Fprintf(os.Stderr, "load %s: %v\n", os.Args[1], err)
		os.Exit(1)
	}
}

// ready announces the state and its facts, then holds it until stdin closes
// (capture.sh closes it when it has taken its captures) or -hold passes.
func ready(facts ...any) {
	fmt.Println("ready")
	for i := 0; i+1 < len(facts); i += 2 {
		fmt.Printf("fact %v %v\n", facts[i], facts[i+1])
	}
	done := make(chan struct{})
	go func() {
		io.Copy(io.Discard, os.Stdin)
		close(done)
	}()
	select {
	case <-done:
	case <-time.After(*hold):
	}
}

// until polls cond every 50 ms for at most d.
func until(d time.Duration, what string, cond func() bool) error {
	end := time.Now().Add(d)
	for !cond() {
		if time.Now().After(end) {
			return fmt.Errorf("timed out after %v waiting for %s", d, what)
		}
		time.Sleep(50 * time.Millisecond)
	}
	return nil
}

// allAtLeast: every counter has reached k.
func allAtLeast(counts []atomic.Int64, k int64) func() bool {
	return func() bool {
		for i := range counts {
			if counts[i].Load() < k {
				return false
			}
		}
		return true
	}
}
