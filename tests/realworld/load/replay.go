package main

// replay serves a capture directory as the server's pprof endpoints did,
// so that `reef scan --url` can be run on a capture: every sample sees the
// state frozen at the capture (the rules that need change over time see
// none; the rules on the dump's groups see what the live scan saw).

import (
	"compress/gzip"
	"flag"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"path/filepath"
)

const replayIndex = `<html><body>/debug/pprof/ (replayed capture)<br>
Types of profiles available:
<a href="goroutine?debug=1">goroutine</a>
<a href="heap?debug=1">heap</a>
</body></html>
`

// serveFile writes name from dir, decompressed when gz, or 404 when the
// capture does not have it.
func serveFile(w http.ResponseWriter, dir, name string, gz bool) {
	f, err := os.Open(filepath.Join(dir, name))
	if err != nil {
		http.NotFound(w, nil)
		return
	}
	defer f.Close()
	var r io.Reader = f
	if gz {
		zr, err := gzip.NewReader(f)
		if err != nil {
			http.Error(w, err.Error(), http.StatusInternalServerError)
			return
		}
		r = zr
	}
	io.Copy(w, r)
}

func replay(args []string) error {
	var dir, listen string
	flag.CommandLine.StringVar(&dir, "dir", "", "capture directory")
	flag.CommandLine.StringVar(&listen, "listen", "127.0.0.1:0", "address to serve on")
	flag.CommandLine.Parse(args)
	if _, err := os.Stat(filepath.Join(dir, "goroutine-debug1.txt")); err != nil {
		return fmt.Errorf("-dir %q: not a capture: %v", dir, err)
	}
	mux := http.NewServeMux()
	mux.HandleFunc("/debug/pprof/", func(w http.ResponseWriter, r *http.Request) {
		io.WriteString(w, replayIndex)
	})
	mux.HandleFunc("/debug/pprof/goroutine", func(w http.ResponseWriter, r *http.Request) {
		switch r.URL.Query().Get("debug") {
		case "1":
			serveFile(w, dir, "goroutine-debug1.txt", false)
		case "2":
			serveFile(w, dir, "goroutine-debug2.txt.gz", true)
		default:
			http.NotFound(w, r)
		}
	})
	mux.HandleFunc("/debug/pprof/heap", func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Query().Get("debug") != "" {
			http.NotFound(w, r) // the capture has the protobuf only
			return
		}
		serveFile(w, dir, "heap.pb.gz", false)
	})
	mux.HandleFunc("/metrics", func(w http.ResponseWriter, r *http.Request) {
		serveFile(w, dir, "metrics.txt.gz", true)
	})
	ln, err := net.Listen("tcp", listen)
	if err != nil {
		return err
	}
	fmt.Printf("listening on http://%s\n", ln.Addr())
	go http.Serve(ln, mux)
	ready()
	return nil
}
