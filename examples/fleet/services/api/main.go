// api: a tiny HTTP service. GET /health answers "ok"; -version prints the version,
// -healthcheck probes a running server's /health (the image's HEALTHCHECK).
package main

import (
	"flag"
	"fmt"
	"net/http"
	"os"
	"runtime"
)

var version = "dev"

func main() {
	showVersion := flag.Bool("version", false, "print the version and exit")
	healthcheck := flag.Bool("healthcheck", false, "probe the local server and exit")
	addr := flag.String("addr", ":8080", "listen address")
	flag.Parse()

	switch {
	case *showVersion:
		fmt.Printf("api %s %s/%s\n", version, runtime.GOOS, runtime.GOARCH)
		return
	case *healthcheck:
		resp, err := http.Get("http://127.0.0.1:8080/health")
		if err != nil || resp.StatusCode != http.StatusOK {
			os.Exit(1)
		}
		return
	}

	http.HandleFunc("/health", func(w http.ResponseWriter, _ *http.Request) {
		fmt.Fprintln(w, "ok")
	})
	http.HandleFunc("/", func(w http.ResponseWriter, _ *http.Request) {
		fmt.Fprintf(w, "fleet api %s on %s/%s\n", version, runtime.GOOS, runtime.GOARCH)
	})
	if err := http.ListenAndServe(*addr, nil); err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
}
