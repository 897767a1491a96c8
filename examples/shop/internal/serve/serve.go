// Package serve runs the HTTP servers of the demo shop's programs and tells
// the demo launcher where they listen: each prints one line,
// "NAME listening on http://ADDR", to standard output once it accepts
// connections, so the launcher can ask for port 0 and wait for that line
// instead of polling.
package serve

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"os"
	"os/signal"
	"strings"
	"syscall"
	"time"
)

// Main runs a program of the shop as its command: run gets the arguments
// from os.Args and a context cancelled by SIGINT or SIGTERM; an error is
// printed after the program's name, and exits 1.
func Main(name string, run func(ctx context.Context, args []string, stdout, stderr io.Writer) error) {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	if err := run(ctx, os.Args[1:], os.Stdout, os.Stderr); err != nil {
		fmt.Fprintln(os.Stderr, name+":", err)
		os.Exit(1)
	}
}

// ReadyLine is the format of the line HTTP prints when it is ready.
const ReadyLine = "%s listening on http://%s\n"

// ParseReadyLine reads a ReadyLine: the server's name and URL.
func ParseReadyLine(line string) (name, url string, ok bool) {
	name, url, ok = strings.Cut(strings.TrimSpace(line), " listening on ")
	return name, url, ok && strings.HasPrefix(url, "http://")
}

// HTTP listens on addr, prints ReadyLine to ready, and serves h until ctx
// ends; then it gives requests in flight two seconds to finish.
func HTTP(ctx context.Context, log *slog.Logger, name, addr string, h http.Handler, ready io.Writer) error {
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return fmt.Errorf("listening on %s: %w", addr, err)
	}
	hs := &http.Server{
		Handler:           h,
		ReadHeaderTimeout: 5 * time.Second,
		ErrorLog:          slog.NewLogLogger(log.Handler(), slog.LevelWarn),
	}
	served := make(chan error, 1)
	go func() { served <- hs.Serve(ln) }()
	fmt.Fprintf(ready, ReadyLine, name, ln.Addr())
	log.Info("listening", "addr", ln.Addr().String())
	select {
	case err := <-served:
		return fmt.Errorf("serving on %s: %w", ln.Addr(), err)
	case <-ctx.Done():
	}
	shutdownCtx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 2*time.Second)
	defer cancel()
	if err := hs.Shutdown(shutdownCtx); err != nil {
		hs.Close()
	}
	if err := <-served; err != nil && !errors.Is(err, http.ErrServerClosed) {
		return fmt.Errorf("serving on %s: %w", ln.Addr(), err)
	}
	return nil
}

// WriteJSON writes v as the JSON body of a response with status.
func WriteJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	// The status line is sent: an encoding error can only be logged by the
	// client noticing a short body.
	_ = json.NewEncoder(w).Encode(v)
}
