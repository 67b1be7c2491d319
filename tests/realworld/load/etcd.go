package main

// etcd's JSON gateway (/v3/kv/put, /v3/kv/range, /v3/watch; keys and values
// base64) forwards each call to the server's own gRPC service, so a watch
// opened here is a gRPC Watch stream inside etcd: the per-stream goroutines
// a healthy etcd holds for every open watch.

import (
	"bytes"
	"encoding/base64"
	"encoding/json"
	"flag"
	"fmt"
	"net/http"
	"sync/atomic"
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
