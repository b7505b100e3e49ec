package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"net"
	"net/http"
	"strconv"
	"syscall"
	"time"
)

// readyCmd waits for the first 200 of a server's GET /readyz and prints
// the milliseconds since -since (Unix nanoseconds, taken by the script
// just before it started the server). One process asks every -every
// over one HTTP client, so the asking costs the machine next to nothing
// while the server starts: a loop of curl processes, one fork and exec
// every few milliseconds, took CPU from the start it timed on two
// cores. With -pid it fails as soon as that process is gone.
func readyCmd(ctx context.Context, args []string) error {
	fs := flag.NewFlagSet("ready", flag.ContinueOnError)
	url := fs.String("url", "", "the server's base URL")
	since := fs.Int64("since", 0, "Unix nanoseconds the start is timed from")
	every := fs.Duration("every", 2*time.Millisecond, "how often to ask")
	pid := fs.Int("pid", 0, "the server's process; fail when it is gone")
	timeout := fs.Duration("timeout", time.Minute, "give up after")
	if err := fs.Parse(args); err != nil {
		return err
	}
	if *url == "" || *since == 0 {
		return errors.New("ready: -url and -since are required")
	}
	ms, err := awaitReady(ctx, *url+"/readyz", time.Unix(0, *since), *every, *pid, *timeout)
	if err != nil {
		return err
	}
	fmt.Println(strconv.FormatInt(ms, 10))
	return nil
}

// awaitReady asks url until it answers 200 and returns the milliseconds
// from since to that answer.
func awaitReady(ctx context.Context, url string, since time.Time, every time.Duration, pid int, timeout time.Duration) (int64, error) {
	ctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	client := &http.Client{Transport: &http.Transport{
		// A refused dial fails in microseconds; a dial that connects
		// waits in the listener's backlog until the server serves.
		DialContext:       (&net.Dialer{}).DialContext,
		DisableKeepAlives: true,
	}}
	t := time.NewTicker(every)
	defer t.Stop()
	for {
		req, err := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
		if err != nil {
			return 0, err
		}
		if resp, err := client.Do(req); err == nil {
			resp.Body.Close()
			if resp.StatusCode == http.StatusOK {
				return time.Since(since).Milliseconds(), nil
			}
		}
		if pid > 0 && syscall.Kill(pid, 0) != nil {
			return 0, fmt.Errorf("ready: process %d is gone", pid)
		}
		select {
		case <-ctx.Done():
			return 0, fmt.Errorf("ready: %s did not answer 200: %w", url, ctx.Err())
		case <-t.C:
		}
	}
}
