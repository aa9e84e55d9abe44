// A stand-in service for orchestration tests: serves HTTP on $PORT (default 8080), answers
// /health with 200 once $READY_AFTER (a Go duration) has passed since start, and keeps a
// counter file in $DATA_DIR so tests can tell a volume survived; /log?line= prints a line. Its own binary is its
// healthcheck: `standin-http check` exits 0 when /health answers 200.
package main

import (
	"fmt"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"time"
)

func env(name, fallback string) string {
	if value := os.Getenv(name); value != "" {
		return value
	}
	return fallback
}

func main() {
	port := env("PORT", "8080")
	if len(os.Args) > 1 && os.Args[1] == "check" {
		response, err := http.Get("http://127.0.0.1:" + port + "/health")
		if err != nil || response.StatusCode != 200 {
			os.Exit(1)
		}
		os.Exit(0)
	}
	started := time.Now()
	readyAfter, _ := time.ParseDuration(env("READY_AFTER", "0s"))
	dataDir := env("DATA_DIR", "/data")
	boots := 1
	if previous, err := os.ReadFile(filepath.Join(dataDir, "boots")); err == nil {
		fmt.Sscan(strings.TrimSpace(string(previous)), &boots)
		boots++
	}
	_ = os.WriteFile(filepath.Join(dataDir, "boots"), []byte(fmt.Sprint(boots)), 0o644)
	fmt.Printf("stand-in %s listening on %s (boot %d)\n", env("NAME", "service"), port, boots)
	http.HandleFunc("/health", func(w http.ResponseWriter, _ *http.Request) {
		if time.Since(started) < readyAfter {
			w.WriteHeader(503)
			return
		}
		fmt.Fprintln(w, "ok")
	})
	// /log?line=TEXT prints TEXT on stdout, so tests can watch a log grow.
	http.HandleFunc("/log", func(w http.ResponseWriter, r *http.Request) { fmt.Println(r.URL.Query().Get("line")) })
	http.HandleFunc("/boots", func(w http.ResponseWriter, _ *http.Request) { fmt.Fprint(w, boots) })
	if err := http.ListenAndServe(":"+port, nil); err != nil {
		fmt.Println(err)
		os.Exit(1)
	}
}
