// Package api imitates the request handlers of a small order service.
// Its goroutines leak the classic way: a send on a channel nobody reads,
// reached at different call depths.
package api

import (
	"context"
	"fmt"
	"net"
	"net/http"
	"strconv"
	"time"
)

type Event struct {
	ID   int
	Kind string
}

type Order struct {
	ID    int
	Items []string
	Total float64
}

type Repo struct {
	name   string
	events chan Event // unbuffered, never drained
}

type OrderService struct {
	repo   *Repo
	events chan Event
}

type Server struct {
	svc    *OrderService
	events chan Event
	quit   chan struct{}
}

func NewServer() *Server {
	r := &Repo{name: "orders", events: make(chan Event)}
	return &Server{
		svc:    &OrderService{repo: r, events: make(chan Event)},
		events: make(chan Event),
		quit:   make(chan struct{}),
	}
}

// HandleOrder leaks at call depth leakDepth (1..6).
//
//go:noinline
func (s *Server) HandleOrder(ctx context.Context, id int, leakDepth int, ready func()) error {
	if leakDepth <= 1 {
		ready()
		s.events <- Event{ID: id, Kind: "received"}
		return nil
	}
	return s.validate(ctx, id, leakDepth, ready)
}

//go:noinline
func (s *Server) validate(ctx context.Context, id int, leakDepth int, ready func()) error {
	if id < 0 {
		return fmt.Errorf("bad id %d", id)
	}
	if leakDepth == 2 {
		ready()
		s.events <- Event{ID: id, Kind: "validated"}
		return nil
	}
	return s.svc.Place(ctx, &Order{ID: id, Total: float64(id) * 1.5}, leakDepth, ready)
}

//go:noinline
func (o *OrderService) Place(ctx context.Context, ord *Order, leakDepth int, ready func()) error {
	if leakDepth == 3 {
		ready()
		o.events <- Event{ID: ord.ID, Kind: "placed"}
		return nil
	}
	return o.repo.Save(ctx, ord, leakDepth, ready)
}

//go:noinline
func (r *Repo) Save(ctx context.Context, ord *Order, leakDepth int, ready func()) error {
	if leakDepth == 4 {
		ready()
		r.events <- Event{ID: ord.ID, Kind: "saved"}
		return nil
	}
	return r.publish(ord.ID, "created", leakDepth, ready)
}

//go:noinline
func (r *Repo) publish(id int, kind string, leakDepth int, ready func()) error {
	if leakDepth == 5 {
		ready()
		r.events <- Event{ID: id, Kind: kind}
		return nil
	}
	return notify(r.events, Event{ID: id, Kind: kind}, ready)
}

//go:noinline
func notify(ch chan<- Event, ev Event, ready func()) error {
	ready()
	ch <- ev
	return nil
}

// HandleSearch fans a query out to shards, keeps the first answer and
// returns: the other shard goroutines stay blocked forever.
// It leaves shards-1 goroutines behind (the caller goroutine exits).
//
//go:noinline
func (s *Server) HandleSearch(ctx context.Context, q string, shards int, useSelect bool, ready func()) string {
	results := make(chan string)
	for i := 0; i < shards; i++ {
		if useSelect {
			go s.queryShardCtx(ctx, q, i, results, ready)
		} else {
			go s.queryShard(q, i, results, ready)
		}
	}
	return <-results
}

//go:noinline
func (s *Server) queryShard(q string, shard int, out chan<- string, ready func()) {
	r := q + "@" + strconv.Itoa(shard)
	ready()
	out <- r
}

//go:noinline
func (s *Server) queryShardCtx(ctx context.Context, q string, shard int, out chan<- string, ready func()) {
	r := q + "#" + strconv.Itoa(shard)
	ready()
	select {
	case out <- r:
	case <-ctx.Done():
	case <-s.quit:
	}
}

// ---- real HTTP over loopback ----

type HTTP struct {
	srv  *Server
	ln   net.Listener
	hs   *http.Server
	URL  string
	quit chan struct{}
}

func StartHTTP(s *Server) (*HTTP, error) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return nil, err
	}
	h := &HTTP{srv: s, ln: ln, URL: "http://" + ln.Addr().String(), quit: make(chan struct{})}
	mux := http.NewServeMux()
	mux.HandleFunc("/orders/", h.orders)
	mux.HandleFunc("/stream", h.stream)
	mux.HandleFunc("/ping", func(w http.ResponseWriter, r *http.Request) { _, _ = w.Write([]byte("pong\n")) })
	h.hs = &http.Server{Handler: mux, ReadHeaderTimeout: time.Hour}
	go func() { _ = h.hs.Serve(ln) }()
	return h, nil
}

//go:noinline
func (h *HTTP) orders(w http.ResponseWriter, r *http.Request) {
	id, _ := strconv.Atoi(r.URL.Query().Get("id"))
	depth, _ := strconv.Atoi(r.URL.Query().Get("depth"))
	if err := h.srv.HandleOrder(r.Context(), id, depth, func() {}); err != nil {
		http.Error(w, err.Error(), http.StatusBadRequest)
	}
}

//go:noinline
func (h *HTTP) stream(w http.ResponseWriter, r *http.Request) {
	t := time.NewTicker(time.Hour)
	defer t.Stop()
	for {
		select {
		case <-r.Context().Done():
			return
		case <-h.quit:
			return
		case <-t.C:
			_, _ = w.Write([]byte("tick\n"))
		}
	}
}

// Client issues requests that never complete (blocked) or complete (idle
// keep-alive connection left behind).
type Client struct {
	c *http.Client
}

func NewClient() *Client {
	tr := &http.Transport{MaxIdleConnsPerHost: 100000, DisableCompression: true}
	return &Client{c: &http.Client{Transport: tr}}
}

//go:noinline
func (c *Client) FetchOrder(base string, id, depth int) error {
	resp, err := c.c.Get(base + "/orders/?id=" + strconv.Itoa(id) + "&depth=" + strconv.Itoa(depth))
	if err != nil {
		return err
	}
	return resp.Body.Close()
}

//go:noinline
func (c *Client) Subscribe(base string) error {
	resp, err := c.c.Get(base + "/stream")
	if err != nil {
		return err
	}
	return resp.Body.Close()
}

//go:noinline
func Ping(base string) error {
	c := NewClient()
	resp, err := c.c.Get(base + "/ping")
	if err != nil {
		return err
	}
	buf := make([]byte, 16)
	_, _ = resp.Body.Read(buf)
	return resp.Body.Close()
}
