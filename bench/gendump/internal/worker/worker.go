// Package worker imitates background machinery: worker pools, pipelines,
// tickers, retry loops, recursive walkers.
package worker

import (
	"context"
	"sync"
	"time"
)

type Job struct {
	ID      int
	Payload []byte
}

type Pool struct {
	jobs chan Job
	quit chan struct{}
}

func NewPool() *Pool { return &Pool{jobs: make(chan Job), quit: make(chan struct{})} }

// StartRange starts one idle worker that ranges over the job channel.
func (p *Pool) StartRange(id int, ready func()) { go p.rangeWorker(id, ready) }

// StartSelect starts one idle worker that selects on jobs and quit.
func (p *Pool) StartSelect(id int, ready func()) { go p.selectWorker(id, ready) }

//go:noinline
func (p *Pool) rangeWorker(id int, ready func()) {
	ready()
	for j := range p.jobs {
		p.process(id, j)
	}
}

//go:noinline
func (p *Pool) selectWorker(id int, ready func()) {
	ready()
	for {
		select {
		case j := <-p.jobs:
			p.process(id, j)
		case <-p.quit:
			return
		}
	}
}

//go:noinline
func (p *Pool) process(id int, j Job) int { return id + len(j.Payload) }

// Pipeline: a generator stuck on a full buffered channel, a stage stuck
// on an unbuffered send, and a sink waiting for input.
type Pipeline struct {
	full  chan int
	mid   chan int
	empty chan int
	done  chan struct{}
}

func NewPipeline() *Pipeline {
	p := &Pipeline{full: make(chan int, 4), mid: make(chan int), empty: make(chan int), done: make(chan struct{})}
	for i := 0; i < cap(p.full); i++ {
		p.full <- i
	}
	return p
}

//go:noinline
func (p *Pipeline) Generate(start int, ready func()) {
	ready()
	for i := start; ; i++ {
		p.full <- i
	}
}

//go:noinline
func (p *Pipeline) Transform(v int, ready func()) {
	ready()
	p.mid <- v * 2
}

//go:noinline
func (p *Pipeline) Sink(ready func()) int {
	ready()
	sum := 0
	for {
		select {
		case v := <-p.empty:
			sum += v
		case <-p.done:
			return sum
		case <-time.After(time.Hour):
			return sum
		}
	}
}

// Ticker loop.
//
//go:noinline
func HeartbeatLoop(quit <-chan struct{}, ready func()) {
	t := time.NewTicker(time.Hour)
	defer t.Stop()
	ready()
	for {
		select {
		case <-t.C:
		case <-quit:
			return
		}
	}
}

// RetryWithBackoff sleeps between attempts.
//
//go:noinline
func RetryWithBackoff(attempt func() error, ready func()) error {
	d := time.Hour
	ready()
	for {
		if err := attempt(); err == nil {
			return nil
		}
		time.Sleep(d)
		d *= 2
	}
}

//go:noinline
func WaitTimeout(ready func()) bool {
	ready()
	select {
	case <-time.After(2 * time.Hour):
		return false
	}
}

//go:noinline
func AwaitTimer(ready func()) {
	ready()
	<-time.After(3 * time.Hour)
}

// WatchContext waits for a context that is never cancelled.
//
//go:noinline
func WatchContext(ctx context.Context, name string, ready func()) error {
	ready()
	<-ctx.Done()
	return ctx.Err()
}

// ---- recursion ----

type Node struct {
	Left, Right *Node
	Depth       int
}

//go:noinline
func Walk(n *Node, depth int, leaf func()) int {
	if depth == 0 {
		leaf()
		return n.Depth
	}
	return Walk(n, depth-1, leaf) + 1
}

//go:noinline
func Even(n int, leaf func()) bool {
	if n == 0 {
		leaf()
		return true
	}
	return Odd(n-1, leaf)
}

//go:noinline
func Odd(n int, leaf func()) bool {
	if n == 0 {
		leaf()
		return false
	}
	return Even(n-1, leaf)
}

// ---- nested spawning ----

// Supervisor spawns a child that spawns a grandchild; only the grandchild
// stays (blocked), so its "created by" points at a goroutine that is gone.
//
//go:noinline
func Supervisor(block <-chan struct{}, ready func()) {
	var wg sync.WaitGroup
	wg.Add(1)
	go func() {
		defer wg.Done()
		go func() {
			ready()
			<-block
		}()
	}()
	wg.Wait()
}

// Group uses sync.WaitGroup.Go (Go 1.25+) to start a blocked task; the
// caller then waits on the group, so two goroutines stay.
//
//go:noinline
func Group(block <-chan struct{}, ready func()) {
	var wg sync.WaitGroup
	wg.Go(func() {
		ready()
		<-block
	})
	ready()
	wg.Wait()
}

type Service struct {
	name string
	in   chan Job
	stop chan struct{}
}

func NewService(name string) *Service {
	return &Service{name: name, in: make(chan Job), stop: make(chan struct{})}
}

// Run is started as a method value: go s.Run(ready).
//
//go:noinline
func (s *Service) Run(ready func()) {
	ready()
	for {
		select {
		case j := <-s.in:
			_ = j
		case <-s.stop:
			return
		}
	}
}
