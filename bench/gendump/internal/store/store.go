// Package store imitates an in-memory cache layer whose locks are held by
// a stuck goroutine, so that everyone else queues on them.
package store

import (
	"strconv"
	"sync"
)

type Cache struct {
	mu    sync.Mutex
	items map[string][]byte
	stuck chan struct{}
}

func NewCache() *Cache {
	return &Cache{items: map[string][]byte{}, stuck: make(chan struct{})}
}

// Compact takes the lock and never gives it back (it waits on a channel).
//
//go:noinline
func (c *Cache) Compact(ready func()) {
	c.mu.Lock()
	defer c.mu.Unlock()
	ready()
	<-c.stuck
}

//go:noinline
func (c *Cache) Get(key string, ready func()) []byte {
	ready()
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.items[key]
}

//go:noinline
func (c *Cache) Set(key string, v []byte, ready func()) {
	ready()
	c.mu.Lock()
	c.items[key] = v
	c.mu.Unlock()
}

//go:noinline
func (c *Cache) Refresh(keys []string, ready func()) int {
	n := 0
	for _, k := range keys {
		if c.Get(k, ready) != nil {
			n++
		}
	}
	return n
}

type Stats struct {
	mu     sync.RWMutex
	counts map[string]int
	stuck  chan struct{}
}

func NewStats() *Stats { return &Stats{counts: map[string]int{}, stuck: make(chan struct{})} }

// Snapshot holds a read lock forever.
//
//go:noinline
func (s *Stats) Snapshot(ready func()) map[string]int {
	s.mu.RLock()
	defer s.mu.RUnlock()
	ready()
	<-s.stuck
	return s.counts
}

//go:noinline
func (s *Stats) Inc(name string, ready func()) {
	ready()
	s.mu.Lock()
	s.counts[name]++
	s.mu.Unlock()
}

//go:noinline
func (s *Stats) Read(name string, ready func()) int {
	ready()
	s.mu.RLock()
	defer s.mu.RUnlock()
	return s.counts[name]
}

// TypedCache is generic, so its frames print as store.(*TypedCache[...]).Load.
type TypedCache[K comparable, V any] struct {
	mu sync.Mutex
	m  map[K]V
}

func NewTypedCache[K comparable, V any]() *TypedCache[K, V] {
	return &TypedCache[K, V]{m: map[K]V{}}
}

//go:noinline
func (t *TypedCache[K, V]) Load(k K, ready func()) (V, bool) {
	ready()
	t.mu.Lock()
	defer t.mu.Unlock()
	v, ok := t.m[k]
	return v, ok
}

//go:noinline
func (t *TypedCache[K, V]) Hold(stuck <-chan struct{}, ready func()) {
	t.mu.Lock()
	ready()
	<-stuck
	t.mu.Unlock()
}

// Queue is a condition-variable queue that is never fed.
type Queue struct {
	mu    sync.Mutex
	cond  *sync.Cond
	items []string
}

func NewQueue() *Queue {
	q := &Queue{}
	q.cond = sync.NewCond(&q.mu)
	return q
}

//go:noinline
func (q *Queue) Pop(ready func()) string {
	q.mu.Lock()
	defer q.mu.Unlock()
	ready()
	for len(q.items) == 0 {
		q.cond.Wait()
	}
	it := q.items[0]
	q.items = q.items[1:]
	return it
}

// Loader initialises once; the initialiser is stuck, so later callers wait in once.Do.
type Loader struct {
	once  sync.Once
	stuck chan struct{}
	data  map[string]string
}

func NewLoader() *Loader { return &Loader{stuck: make(chan struct{})} }

// Init runs the stuck initialiser; call it first, from one goroutine.
//
//go:noinline
func (l *Loader) Init(ready func()) {
	l.once.Do(func() {
		ready()
		<-l.stuck
		l.data = map[string]string{}
	})
}

//go:noinline
func (l *Loader) Config(name string, ready func()) string {
	ready()
	l.once.Do(func() { l.data = map[string]string{} })
	return l.data[name]
}

// Batch waits for a WaitGroup that never reaches zero.
type Batch struct {
	wg sync.WaitGroup
}

func NewBatch() *Batch {
	b := &Batch{}
	b.wg.Add(1)
	return b
}

//go:noinline
func (b *Batch) Wait(ready func()) {
	ready()
	b.wg.Wait()
}

//go:noinline
func (b *Batch) Flush(id int, ready func()) string {
	b.Wait(ready)
	return strconv.Itoa(id)
}
