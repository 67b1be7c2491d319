package main

// The reverse proxy's backend and clients.  The backend is this process, so
// it counts the requests that reached it: in proxy-hang that is the number
// of requests the proxy has in flight upstream.

import (
	"flag"
	"fmt"
	"io"
	"net"
	"net/http"
	"strings"
	"sync/atomic"
	"time"
)

func proxyFlags(args []string) (backend, proxy string) {
	fs := flag.CommandLine
	fs.StringVar(&backend, "backend", "127.0.0.1:9081", "address the backend listens on")
	fs.StringVar(&proxy, "proxy", "http://127.0.0.1:9080", "the proxy's URL")
	fs.Parse(args)
	return
}

func serveBackend(addr string, h http.HandlerFunc) error {
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return err
	}
	go http.Serve(ln, h)
	return nil
}

// proxyHang: the backend accepts every request and never answers; N
// clients without a timeout send one request each through the proxy.
// -arrivals K: the proxy lets only K through (a connection cap); the state
// is reached when K have arrived, and the rest wait inside the proxy.
func proxyHang(args []string) error {
	arrivals := flag.CommandLine.Int("arrivals", 0, "requests expected at the backend (default -n)")
	backend, proxy := proxyFlags(args)
	if *arrivals == 0 {
		*arrivals = *n
	}
	var arrived atomic.Int64
	never := make(chan struct{})
	err := serveBackend(backend, func(w http.ResponseWriter, r *http.Request) {
		arrived.Add(1)
		select {
		case <-never:
		case <-r.Context().Done():
		}
	})
	if err != nil {
		return err
	}
	client := &http.Client{Transport: &http.Transport{}} // no timeout: the bug
	for i := 0; i < *n; i++ {
		go func(i int) {
			resp, err := client.Get(fmt.Sprintf("%s/hang/%d", proxy, i))
			if err == nil {
				resp.Body.Close()
			}
		}(i)
	}
	if err := until(60*time.Second, fmt.Sprintf("%d requests at the backend", *arrivals), func() bool {
		return arrived.Load() >= int64(*arrivals)
	}); err != nil {
		return err
	}
	time.Sleep(time.Second) // no more should arrive: the cap holds
	got := arrived.Load()
	ready("hung_requests", *n, "client_connections", *n, "upstream_requests_in_flight", got,
		"requests_held_in_proxy", int64(*n)-got)
	return nil
}

// proxyOK: the backend answers at once; N/2 HTTP/1.1 and N/2 h2c clients,
// one keep-alive connection each, send a request every 100 ms.
func proxyOK(args []string) error {
	backend, proxy := proxyFlags(args)
	body := strings.Repeat("b", 1024)
	var served atomic.Int64
	err := serveBackend(backend, func(w http.ResponseWriter, r *http.Request) {
		served.Add(1)
		io.WriteString(w, body)
	})
	if err != nil {
		return err
	}
	h1, h2 := *n/2, *n-*n/2
	counts := make([]atomic.Int64, *n)
	for i := 0; i < *n; i++ {
		tr := &http.Transport{MaxIdleConnsPerHost: 1, MaxConnsPerHost: 1}
		if i >= h1 {
			tr.Protocols = new(http.Protocols)
			tr.Protocols.SetUnencryptedHTTP2(true)
		}
		c := &http.Client{Transport: tr, Timeout: 10 * time.Second}
		go keepAsking(c, fmt.Sprintf("%s/ok/%d", proxy, i), &counts[i])
	}
	if err := until(60*time.Second, "every client to get 5 answers", allAtLeast(counts, 5)); err != nil {
		return err
	}
	ready("http1_clients", h1, "h2c_clients", h2, "client_connections", *n, "hung_requests", 0)
	return nil
}

func keepAsking(c *http.Client, url string, got *atomic.Int64) {
	for t := time.NewTicker(100 * time.Millisecond); ; <-t.C {
		resp, err := c.Get(url)
		if err != nil {
			continue
		}
		io.Copy(io.Discard, resp.Body)
		resp.Body.Close()
		if resp.StatusCode == http.StatusOK {
			got.Add(1)
		}
	}
}
