// Package netio makes goroutines wait on real loopback sockets and pipes.
package netio

import (
	"bufio"
	"io"
	"net"
	"syscall"
)

// Pairs returns n connected TCP pairs over 127.0.0.1.
func Pairs(ln net.Listener, n int) ([][2]net.Conn, error) {
	out := make([][2]net.Conn, 0, n)
	for i := 0; i < n; i++ {
		c, err := net.Dial("tcp", ln.Addr().String())
		if err != nil {
			return out, err
		}
		s, err := ln.Accept()
		if err != nil {
			return out, err
		}
		out = append(out, [2]net.Conn{c, s})
	}
	return out, nil
}

// ReadLine blocks reading a line that never comes (IO wait, or semacquire
// on the fd lock when another goroutine is already reading the same conn).
//
//go:noinline
func ReadLine(c net.Conn, ready func()) (string, error) {
	r := bufio.NewReaderSize(c, 512)
	ready()
	return r.ReadString('\n')
}

// ReadFrame reads a length-prefixed frame with io.ReadFull.
//
//go:noinline
func ReadFrame(c net.Conn, ready func()) ([]byte, error) {
	hdr := make([]byte, 4)
	ready()
	if _, err := io.ReadFull(c, hdr); err != nil {
		return nil, err
	}
	return hdr, nil
}

// WriteBlob writes more than the socket buffers hold to a peer that never reads.
//
//go:noinline
func WriteBlob(c net.Conn, blob []byte, ready func()) error {
	ready()
	_, err := c.Write(blob)
	return err
}

// AcceptLoop waits for connections that never come.
//
//go:noinline
func AcceptLoop(ln net.Listener, ready func()) {
	ready()
	for {
		c, err := ln.Accept()
		if err != nil {
			return
		}
		_ = c.Close()
	}
}

// Proxy copies src to dst (splice on Linux) and waits for data.
//
//go:noinline
func Proxy(dst, src net.Conn, ready func()) (int64, error) {
	ready()
	return io.Copy(dst, src)
}

// BlockingRead reads from a blocking pipe fd: the goroutine sits in a
// syscall, holding an OS thread.
//
//go:noinline
func BlockingRead(fd int, ready func()) (int, error) {
	buf := make([]byte, 64)
	ready()
	return syscall.Read(fd, buf)
}
