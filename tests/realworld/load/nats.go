package main

// NATS' client protocol is line-oriented text (INFO, CONNECT, SUB, PUB,
// MSG, PING, PONG; https://docs.nats.io/reference/reference-protocols/nats-protocol),
// so a subscriber that reads and one that does not are a few lines each.

import (
	"bufio"
	"flag"
	"fmt"
	"io"
	"net"
	"strconv"
	"strings"
	"sync/atomic"
	"syscall"
	"time"
)

type natsConn struct {
	c net.Conn
	r *bufio.Reader
}

// natsDial connects, reads INFO, sends CONNECT. rcvbuf > 0 shrinks the
// socket's receive buffer before connecting (so the window is small from
// the handshake on) to make a slow consumer fill up quickly.
func natsDial(addr string, rcvbuf int) (*natsConn, error) {
	d := net.Dialer{Timeout: 5 * time.Second}
	if rcvbuf > 0 {
		d.Control = func(_, _ string, rc syscall.RawConn) error {
			var serr error
			err := rc.Control(func(fd uintptr) {
				serr = syscall.SetsockoptInt(int(fd), syscall.SOL_SOCKET, syscall.SO_RCVBUF, rcvbuf)
			})
			if err != nil {
				return err
			}
			return serr
		}
	}
	c, err := d.Dial("tcp", addr)
	if err != nil {
		return nil, err
	}
	nc := &natsConn{c: c, r: bufio.NewReaderSize(c, 64<<10)}
	line, err := nc.r.ReadString('\n')
	if err != nil || !strings.HasPrefix(line, "INFO ") {
		c.Close()
		return nil, fmt.Errorf("%s: no INFO from server (%q, %v)", addr, line, err)
	}
	if _, err := io.WriteString(c, "CONNECT {\"verbose\":false,\"pedantic\":false,\"name\":\"reef-load\"}\r\n"); err != nil {
		c.Close()
		return nil, err
	}
	return nc, nil
}

// sync sends PING and reads until PONG: the server has then handled
// everything sent before it.  Messages read meanwhile are counted in got.
func (nc *natsConn) sync(got *atomic.Int64) error {
	if _, err := io.WriteString(nc.c, "PING\r\n"); err != nil {
		return err
	}
	for {
		op, err := nc.next(got)
		if err != nil {
			return err
		}
		if op == "PONG" {
			return nil
		}
	}
}

// next reads one protocol operation, skipping a MSG's payload, answering
// the server's PING.  It returns the operation's name.
func (nc *natsConn) next(got *atomic.Int64) (string, error) {
	line, err := nc.r.ReadString('\n')
	if err != nil {
		return "", err
	}
	f := strings.Fields(line)
	if len(f) == 0 {
		return "", nil
	}
	switch f[0] {
	case "MSG":
		size, err := strconv.Atoi(f[len(f)-1])
		if err != nil {
			return "", fmt.Errorf("bad MSG line %q", line)
		}
		if _, err := nc.r.Discard(size + 2); err != nil {
			return "", err
		}
		if got != nil {
			got.Add(1)
		}
	case "PING":
		_, err = io.WriteString(nc.c, "PONG\r\n")
	case "-ERR":
		return "", fmt.Errorf("server: %s", strings.TrimSpace(line))
	}
	return f[0], err
}

func natsFlags(args []string) (addr string, size, msgs int) {
	fs := flag.CommandLine
	fs.StringVar(&addr, "addr", "127.0.0.1:4222", "NATS client address")
	fs.IntVar(&size, "size", 128, "payload bytes")
	fs.IntVar(&msgs, "msgs", 2000, "messages (nats-slow)")
	fs.Parse(args)
	return
}

// natsSubscriber connects and subscribes; the subscription is in place when
// it returns.
func natsSubscriber(addr, subj string, sid, rcvbuf int) (*natsConn, error) {
	nc, err := natsDial(addr, rcvbuf)
	if err != nil {
		return nil, err
	}
	if _, err := fmt.Fprintf(nc.c, "SUB %s %d\r\n", subj, sid); err != nil {
		return nil, err
	}
	return nc, nc.sync(nil)
}

func natsPub(nc *natsConn, subj string, payload []byte) error {
	_, err := fmt.Fprintf(nc.c, "PUB %s %d\r\n%s\r\n", subj, len(payload), payload)
	return err
}

// natsOK: N subscribers that keep reading, and one publisher sending
// 200 messages a second to all of them.  Healthy: each client has a read
// loop in the poller and a write loop parked on its sync.Cond.
func natsOK(args []string) error {
	addr, size, _ := natsFlags(args)
	counts := make([]atomic.Int64, *n)
	for i := 0; i < *n; i++ {
		nc, err := natsSubscriber(addr, "rw.ok", i+1, 0)
		if err != nil {
			return err
		}
		go func(nc *natsConn, got *atomic.Int64) {
			for {
				if _, err := nc.next(got); err != nil {
					return
				}
			}
		}(nc, &counts[i])
	}
	pub, err := natsDial(addr, 0)
	if err != nil {
		return err
	}
	payload := []byte(strings.Repeat("x", size))
	go func() {
		for t := time.NewTicker(5 * time.Millisecond); ; <-t.C {
			if natsPub(pub, "rw.ok", payload) != nil {
				return
			}
		}
	}()
	go pub.drain()
	if err := until(30*time.Second, "every subscriber to receive 20 messages", allAtLeast(counts, 20)); err != nil {
		return err
	}
	ready("subscribers", *n, "publishers", 1, "client_connections", *n+1, "slow_consumers", 0)
	return nil
}

// drain reads (and answers PINGs on) a publisher's connection.
func (nc *natsConn) drain() {
	for {
		if _, err := nc.next(nil); err != nil {
			return
		}
	}
}

// natsSlow: N subscribers with a 4 KiB receive buffer that subscribe and
// then never read again; one publisher sends -msgs messages of -size bytes,
// then keeps publishing at 50 a second.
// The server buffers everything it cannot write (up to max_pending per
// client) and each client's write loop blocks in write(2) until the
// server's write_deadline.
func natsSlow(args []string) error {
	addr, size, msgs := natsFlags(args)
	for i := 0; i < *n; i++ {
		nc, err := natsSubscriber(addr, "rw.slow", i+1, 4096)
		if err != nil {
			return err
		}
		defer nc.c.Close() // held open, never read again
	}
	pub, err := natsDial(addr, 0)
	if err != nil {
		return err
	}
	payload := []byte(strings.Repeat("s", size))
	for i := 0; i < msgs; i++ {
		if err := natsPub(pub, "rw.slow", payload); err != nil {
			return err
		}
	}
	if err := pub.sync(nil); err != nil {
		return err
	}
	go pub.drain()
	// Then 50 messages a second, so that the buffered bytes keep growing
	// while the state is observed (200 KiB/s per consumer at 4 KiB: about
	// 36 MiB in three minutes, under the server's 64 MiB max_pending).
	go func() {
		for t := time.NewTicker(20 * time.Millisecond); ; <-t.C {
			if natsPub(pub, "rw.slow", payload) != nil {
				return
			}
		}
	}()
	ready("subscribers", *n, "slow_consumers", *n, "publishers", 1,
		"client_connections", *n+1, "messages_before_ready", msgs,
		"bytes_per_consumer_before_ready", msgs*size, "messages_per_second_after", 50)
	return nil
}
