package main

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math/rand/v2"
	"net"
	"net/http"
	"net/http/httptrace"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"time"

	"github.com/paymentctl/paymentctl/sdk"
	"github.com/paymentctl/paymentctl/wirecrypt"
)

// kind is what a request does.
type kind uint8

const (
	kindRead     kind = iota // PATCH /payments/histories/:id
	kindRegister             // POST /payments/histories
	kindProbe                // GET /monitors/system
	numKinds
)

func (k kind) String() string {
	return [...]string{"read", "register", "probe"}[k]
}

// class is the outcome of a request: ok or the kind of failure.
type class uint8

const (
	classOK         class = iota
	classRefused          // connection refused
	classReset            // connection reset
	classEOF              // EOF or unexpected EOF before a whole response
	classClosedIdle       // "server closed idle connection"
	classTimeout          // client timeout
	classTransport        // any other transport error
	classStatus           // a non-2xx answer
	classBody             // a 2xx answer with a wrong body
	classRetried          // the transport used more than one connection
	numClasses
)

func (c class) String() string {
	return [...]string{"ok", "refused", "reset", "eof", "closed-idle", "timeout", "other", "non-2xx", "wrong body", "retried"}[c]
}

// sample is one request.
type sample struct {
	at     int64 // when it was sent, Unix nanoseconds
	lat    int64 // until the whole body was read, nanoseconds
	kind   kind
	class  class
	fresh  bool  // sent on a new connection (keep-alive off)
	target uint8 // index of the instance
}

// failure describes one failed request for the report.
type failure struct {
	at     int64
	kind   kind
	class  class
	target int
	detail string
}

// maxFailureDetails bounds the failures each worker describes.
const maxFailureDetails = 5

// worker collects what one goroutine sent; only that goroutine writes it
// until the load stops.
type worker struct {
	samples  []sample
	failures []failure
	// fakeErrors counts payments the fake PGs refused before a
	// registration; those registrations were not sent.
	fakeErrors int
}

func (w *worker) add(s sample, detail string) {
	w.samples = append(w.samples, s)
	if s.class != classOK && len(w.failures) < maxFailureDetails {
		w.failures = append(w.failures, failure{at: s.at, kind: s.kind, class: s.class, target: int(s.target), detail: detail})
	}
}

// generation is a process seen serving an instance.
type generation struct {
	uid, hash string
	// first and last are when the probe first and last saw it.
	first, last int64
}

// prober records the generations of one instance.
type prober struct {
	worker
	gens []generation
}

// loader runs the load against the instances.
type loader struct {
	targets   []string
	seeds     []seed
	readBody  []byte
	wire      *wirecrypt.Cipher
	keepAlive *http.Client
	oneShot   *http.Client
	pg        *pgKit
	systems   []*sdk.Client // one per instance, a new connection per call
	quit      chan struct{}
	wg        sync.WaitGroup
	readers   []*worker
	writers   []*worker
	probers   []*prober
}

// requestTimeout bounds every load request; a request slower than that is
// a failure of class timeout.
const requestTimeout = 15 * time.Second

func newLoader(targets []string, key, iv string, pg *pgKit, seeds []seed, workers int) (*loader, error) {
	wire, err := wirecrypt.New(key, iv)
	if err != nil {
		return nil, err
	}
	body, err := json.Marshal(sdk.Password{Password: seedPassword})
	if err != nil {
		return nil, err
	}
	probeHTTP := &http.Client{Transport: &http.Transport{Proxy: nil, DisableKeepAlives: true}}
	var systems []*sdk.Client
	for _, t := range targets {
		c, err := sdk.New(sdk.Options{BaseURL: t, Key: key, IV: iv, HTTPClient: probeHTTP, Timeout: requestTimeout})
		if err != nil {
			return nil, err
		}
		systems = append(systems, c)
	}
	return &loader{
		systems:  systems,
		targets:  targets,
		seeds:    seeds,
		readBody: wire.Encrypt(body),
		wire:     wire,
		keepAlive: &http.Client{Timeout: requestTimeout, Transport: &http.Transport{
			Proxy: nil, MaxIdleConnsPerHost: workers, IdleConnTimeout: 90 * time.Second, DisableCompression: true,
		}},
		oneShot: &http.Client{Timeout: requestTimeout, Transport: &http.Transport{
			Proxy: nil, DisableKeepAlives: true, DisableCompression: true,
		}},
		pg:   pg,
		quit: make(chan struct{}),
	}, nil
}

// start runs n read workers at rate requests per second in total,
// m registration workers at regRate, and a probe of every instance every
// probeEvery. Worker i sends to instance i mod len(targets) only, and
// every other round of workers over the instances uses keep-alive
// connections, the others a new connection per request. Pinning bounds
// the requests in flight at each instance by its workers, whatever the
// latency: a round-robin worker would queue at whichever instance is
// slowest at the moment.
func (l *loader) start(n int, rate float64, m int, regRate float64, probeEvery time.Duration) {
	nt := len(l.targets)
	for i := range n {
		w := &worker{}
		l.readers = append(l.readers, w)
		l.loop(i, rate/float64(n), func(int) { l.read(w, (i/nt)%2 == 1, i%nt) })
	}
	for i := range m {
		w := &worker{}
		l.writers = append(l.writers, w)
		l.loop(i, regRate/float64(m), func(j int) { l.register(w, (i/nt)%2 == 1, i%nt, j%2 == 0) })
	}
	for t := range l.targets {
		p := &prober{}
		l.probers = append(l.probers, p)
		l.loop(t, float64(time.Second)/float64(probeEvery), func(int) { l.probe(p, t) })
	}
}

// loop calls fn(0), fn(1), ... at perSecond until stop, on a goroutine of
// its own. A call that comes late is not made up for by a burst: the
// schedule restarts when it is more than a second behind. The first call
// is delayed by a fraction of the period depending on i, so the workers do
// not fire together.
func (l *loader) loop(i int, perSecond float64, fn func(j int)) {
	period := time.Duration(float64(time.Second) / perSecond)
	l.wg.Go(func() {
		next := time.Now().Add(time.Duration(i%64) * period / 64)
		for j := 0; ; j++ {
			if d := time.Until(next); d > 0 {
				t := time.NewTimer(d)
				select {
				case <-l.quit:
					t.Stop()
					return
				case <-t.C:
				}
			} else if d < -time.Second {
				next = time.Now()
			}
			select {
			case <-l.quit:
				return
			default:
			}
			fn(j)
			next = next.Add(period)
		}
	})
}

// stop ends the load and waits for the requests in flight.
func (l *loader) stop() {
	close(l.quit)
	l.wg.Wait()
	for _, c := range []*http.Client{l.keepAlive, l.oneShot} {
		c.CloseIdleConnections()
	}
}

func (l *loader) client(fresh bool) *http.Client {
	if fresh {
		return l.oneShot
	}
	return l.keepAlive
}

// read looks a seeded payment up by id and checks the answer.
func (l *loader) read(w *worker, fresh bool, target int) {
	sd := l.seeds[rand.IntN(len(l.seeds))]
	s, raw, detail := l.send(l.client(fresh), http.MethodPatch, l.targets[target]+"/payments/histories/"+sd.id, l.readBody)
	s.kind, s.fresh, s.target = kindRead, fresh, uint8(target)
	if s.class == classOK {
		if err := l.checkHistory(raw, sd); err != nil {
			s.class, detail = classBody, err.Error()
		}
	}
	w.add(s, detail)
}

// register makes a card payment at a fake PG and registers it. A payment
// the fake refuses is counted apart: no registration is sent for it.
func (l *loader) register(w *worker, fresh bool, target int, iamport bool) {
	in, err := l.pg.pay(context.Background(), iamport)
	if err != nil {
		w.fakeErrors++
		return
	}
	plain, err := json.Marshal(in)
	if err != nil {
		w.add(sample{at: time.Now().UnixNano(), kind: kindRegister, class: classTransport, fresh: fresh, target: uint8(target)}, "encode: "+err.Error())
		return
	}
	s, raw, detail := l.send(l.client(fresh), http.MethodPost, l.targets[target]+"/payments/histories", l.wire.Encrypt(plain))
	s.kind, s.fresh, s.target = kindRegister, fresh, uint8(target)
	if s.class == classOK {
		want := seed{uid: in.Vendor.UID, code: in.Vendor.Code, source: in.Source, price: in.Price}
		if err := l.checkHistory(raw, want); err != nil {
			s.class, detail = classBody, err.Error()
		}
	}
	w.add(s, detail)
}

// send makes one request that nothing retries and reads the whole answer.
// It returns the decrypted body of a 2xx answer.
func (l *loader) send(client *http.Client, method, url string, body []byte) (sample, []byte, string) {
	conns := 0
	trace := &httptrace.ClientTrace{GotConn: func(httptrace.GotConnInfo) { conns++ }}
	req, err := http.NewRequestWithContext(httptrace.WithClientTrace(context.Background(), trace), method, url, bytes.NewReader(body))
	if err != nil {
		return sample{at: time.Now().UnixNano(), class: classTransport}, nil, err.Error()
	}
	// Without GetBody the transport cannot resend the body, not even after
	// a "nothing written" error on a reused connection.
	req.GetBody = nil
	req.Header.Set("Content-Type", wirecrypt.ContentType)
	start := time.Now()
	s := sample{at: start.UnixNano()}
	resp, err := client.Do(req)
	if err != nil {
		s.lat, s.class = time.Since(start).Nanoseconds(), classify(err)
		return s, nil, err.Error()
	}
	raw, err := io.ReadAll(resp.Body)
	resp.Body.Close()
	s.lat = time.Since(start).Nanoseconds()
	switch {
	case err != nil:
		s.class = classify(err)
		return s, nil, "read body: " + err.Error()
	case conns > 1:
		s.class = classRetried
		return s, nil, fmt.Sprintf("%d connections for one request", conns)
	case resp.StatusCode < 200 || resp.StatusCode > 299:
		s.class = classStatus
		return s, nil, fmt.Sprintf("%d %s", resp.StatusCode, shorten(bytes.TrimSpace(raw)))
	}
	plain, err := l.wire.Decrypt(raw)
	if err != nil {
		s.class = classBody
		return s, nil, "decrypt: " + err.Error()
	}
	return s, plain, ""
}

// checkHistory compares an answered payment with the one expected.
func (l *loader) checkHistory(plain []byte, want seed) error {
	var h sdk.History
	if err := json.Unmarshal(plain, &h); err != nil {
		return fmt.Errorf("decode: %w", err)
	}
	switch {
	case want.id != "" && h.ID != want.id:
		return fmt.Errorf("id %q, want %q", h.ID, want.id)
	case want.id == "" && h.ID == "":
		return errors.New("no id")
	case h.Vendor.UID != want.uid || h.VendorCode != want.code:
		return fmt.Errorf("vendor %s %q, want %s %q", h.VendorCode, h.Vendor.UID, want.code, want.uid)
	case h.Source != want.source:
		return fmt.Errorf("source %+v, want %+v", h.Source, want.source)
	case h.Price != want.price:
		return fmt.Errorf("price %d, want %d", h.Price, want.price)
	case h.PaidAt == nil:
		return errors.New("not paid")
	}
	return nil
}

// probe asks an instance which process and commit serve it. The SDK sends
// a GET, which Go's transport may retry on a reused connection, so every
// probe takes a new one.
func (l *loader) probe(p *prober, target int) {
	start := time.Now()
	s := sample{at: start.UnixNano(), kind: kindProbe, fresh: true, target: uint8(target)}
	sys, err := l.systems[target].System(context.Background())
	s.lat = time.Since(start).Nanoseconds()
	var apiErr *sdk.Error
	switch {
	case errors.As(err, &apiErr):
		s.class = classStatus
	case err != nil && (strings.Contains(err.Error(), "decrypt response") || strings.Contains(err.Error(), "decode response")):
		s.class = classBody
	case err != nil:
		s.class = classify(err)
	case sys.UID == "":
		s.class, err = classBody, errors.New("no process uid")
	}
	detail := ""
	if err != nil {
		detail = err.Error()
	}
	p.add(s, detail)
	if s.class != classOK {
		return
	}
	if n := len(p.gens); n > 0 && p.gens[n-1].uid == sys.UID {
		p.gens[n-1].last = s.at
		return
	}
	p.gens = append(p.gens, generation{uid: sys.UID, hash: sys.Commit.Hash, first: s.at, last: s.at})
}

// classify names the class of a transport error.
func classify(err error) class {
	var ne net.Error
	switch {
	case errors.Is(err, syscall.ECONNREFUSED):
		return classRefused
	case errors.Is(err, syscall.ECONNRESET):
		return classReset
	case strings.Contains(err.Error(), "server closed idle connection"):
		return classClosedIdle
	case errors.Is(err, io.EOF), errors.Is(err, io.ErrUnexpectedEOF):
		return classEOF
	case errors.Is(err, context.DeadlineExceeded), errors.As(err, &ne) && ne.Timeout():
		return classTimeout
	}
	return classTransport
}

func shorten(b []byte) string {
	if len(b) > 160 {
		return string(b[:160]) + "…"
	}
	return string(b)
}

// touch writes the current time into path, telling the driver the load
// runs.
func touch(path string) error {
	if path == "" {
		return nil
	}
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		return err
	}
	return os.WriteFile(path, []byte(time.Now().Format(time.RFC3339Nano)+"\n"), 0o644)
}
