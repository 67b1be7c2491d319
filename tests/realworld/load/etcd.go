package main

// etcd's JSON gateway (/v3/kv/put, /v3/kv/range, /v3/watch; keys and values
// base64) forwards each call to the server's own gRPC service, so a watch
// opened here is a gRPC Watch stream inside etcd: the per-stream goroutines
// a healthy etcd holds for every open watch.

import (
	"bufio"
	"bytes"
	"context"
	"encoding/base64"
	"encoding/json"
	"flag"
	"fmt"
	"net"
	"net/http"
	"strconv"
	"strings"
	"sync/atomic"
	"syscall"
	"time"
)

func b64(s string) string { return base64.StdEncoding.EncodeToString([]byte(s)) }

func etcdPost(c *http.Client, url string, body any) error {
	b, _ := json.Marshal(body)
	resp, err := c.Post(url, "application/json", bytes.NewReader(b))
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return fmt.Errorf("%s: %s", url, resp.Status)
	}
	return nil
}

// etcdWatch opens one watch on key and counts the events it delivers.
func etcdWatch(endpoint, key string, events *atomic.Int64, opened chan<- error) {
	req := map[string]any{"create_request": map[string]string{"key": b64(key)}}
	b, _ := json.Marshal(req)
	resp, err := http.Post(endpoint+"/v3/watch", "application/json", bytes.NewReader(b))
	if err != nil {
		opened <- err
		return
	}
	defer resp.Body.Close()
	dec := json.NewDecoder(resp.Body)
	first := true
	for {
		var m struct {
			Result struct {
				Created bool              `json:"created"`
				Events  []json.RawMessage `json:"events"`
			} `json:"result"`
		}
		if err := dec.Decode(&m); err != nil {
			if first {
				opened <- fmt.Errorf("watch %s: %v", key, err)
			}
			return
		}
		if first && m.Result.Created {
			first = false
			opened <- nil
		}
		events.Add(int64(len(m.Result.Events)))
	}
}

// etcdOK: N watches on N keys, and a put every 20 ms (round-robin over the
// watched keys) with a range read beside it.
func etcdOK(args []string) error {
	var endpoint string
	flag.CommandLine.StringVar(&endpoint, "endpoint", "http://127.0.0.1:2379", "etcd client URL")
	flag.CommandLine.Parse(args)
	events := make([]atomic.Int64, *n)
	opened := make(chan error)
	for i := 0; i < *n; i++ {
		go etcdWatch(endpoint, fmt.Sprintf("rw/w/%d", i), &events[i], opened)
		if err := <-opened; err != nil {
			return err
		}
	}
	c := &http.Client{Timeout: 10 * time.Second}
	go func() {
		for i, t := 0, time.NewTicker(20*time.Millisecond); ; i, _ = i+1, <-t.C {
			key := fmt.Sprintf("rw/w/%d", i%*n)
			etcdPost(c, endpoint+"/v3/kv/put", map[string]string{"key": b64(key), "value": b64(fmt.Sprint(i))})
			etcdPost(c, endpoint+"/v3/kv/range", map[string]string{"key": b64(key)})
		}
	}()
	if err := until(90*time.Second, "an event on every watch", allAtLeast(events, 1)); err != nil {
		return err
	}
	ready("watches", *n, "watch_connections", *n)
	return nil
}

// etcdSlow: N watches on one key whose clients read the "created" answer
// and then never read again (4 KiB receive buffers), and a put of -size
// bytes to that key every 20 ms.  Each put is an event for every watch;
// the gateway's writes to the clients block, its gRPC streams stop being
// read, and etcd's watch streams fall behind: slow watchers, whose events
// etcd keeps in memory.  Ready when etcd's own metric counts N slow
// watchers.
func etcdSlow(args []string) error {
	var endpoint string
	var size int
	flag.CommandLine.StringVar(&endpoint, "endpoint", "http://127.0.0.1:2379", "etcd client URL")
	flag.CommandLine.IntVar(&size, "size", 16<<10, "value bytes")
	flag.CommandLine.Parse(args)
	key := b64("rw/slow")
	for i := 0; i < *n; i++ {
		if err := etcdStalledWatch(endpoint, key); err != nil {
			return err
		}
	}
	c := &http.Client{Timeout: 10 * time.Second}
	value := b64(strings.Repeat("v", size))
	go func() {
		for t := time.NewTicker(20 * time.Millisecond); ; <-t.C {
			etcdPost(c, endpoint+"/v3/kv/put", map[string]string{"key": key, "value": value})
		}
	}()
	if err := until(90*time.Second, fmt.Sprintf("%d slow watchers in etcd's metrics", *n), func() bool {
		return etcdMetric(c, endpoint, "etcd_debugging_mvcc_slow_watcher_total") >= float64(*n)
	}); err != nil {
		return err
	}
	ready("watches", *n, "slow_watchers", *n, "watch_connections", *n, "value_bytes", size, "puts_per_second", 50)
	return nil
}

// etcdStalledWatch opens a watch on its own connection with a 4 KiB
// receive buffer, reads up to the "created" answer, and leaves the rest
// of the response unread (the connection stays open until exit).
func etcdStalledWatch(endpoint, key string) error {
	d := net.Dialer{Timeout: 5 * time.Second, Control: func(_, _ string, rc syscall.RawConn) error {
		var serr error
		err := rc.Control(func(fd uintptr) {
			serr = syscall.SetsockoptInt(int(fd), syscall.SOL_SOCKET, syscall.SO_RCVBUF, 4096)
		})
		if err != nil {
			return err
		}
		return serr
	}}
	tr := &http.Transport{DialContext: func(ctx context.Context, network, addr string) (net.Conn, error) {
		return d.DialContext(ctx, network, addr)
	}}
	b, _ := json.Marshal(map[string]any{"create_request": map[string]string{"key": key}})
	resp, err := (&http.Client{Transport: tr}).Post(endpoint+"/v3/watch", "application/json", bytes.NewReader(b))
	if err != nil {
		return err
	}
	line, err := bufio.NewReader(resp.Body).ReadString('\n')
	if err != nil || !strings.Contains(line, `"created":true`) {
		return fmt.Errorf("watch: no created answer (%q, %v)", line, err)
	}
	return nil // resp.Body is held, unread, for the life of the process
}

// etcdMetric reads one unlabelled sample from etcd's /metrics (-1 if absent).
func etcdMetric(c *http.Client, endpoint, name string) float64 {
	resp, err := c.Get(endpoint + "/metrics")
	if err != nil {
		return -1
	}
	defer resp.Body.Close()
	sc := bufio.NewScanner(resp.Body)
	sc.Buffer(make([]byte, 64<<10), 1<<20)
	for sc.Scan() {
		if f := strings.Fields(sc.Text()); len(f) == 2 && f[0] == name {
			v, _ := strconv.ParseFloat(f[1], 64)
			return v
		}
	}
	return -1
}
