// Package hook delivers the webhooks of the fake payment gateways the way the
// real gateways do: asynchronously, retried with backoff until the receiver
// answers 2xx or the schedule runs out, with every attempt recorded so tests
// can inspect what was sent and how the receiver answered.
//
// The original TypeScript fakes fired one request before answering the API
// call and forgot about it (fake-pg.md §1, §8.12). A Sender instead queues the
// delivery, so the API answer goes out first, and retries it on a transport
// error or a non-2xx answer after each step of Options.Backoff.
// IamportBackoff, TossBackoff and PortOneBackoff are the real schedules
// (fake-pg.md §5, portone-v2.md §6.1); Scale shrinks them for tests.
// Options.Sign signs each attempt afresh, as PortOne V2 does.
//
// First attempts leave in enqueue order, one at a time; retries run on their
// own timers and so may overtake later deliveries. The webhook faults of
// package fault change this:
//
//   - WebhookDropRate: that share of Sends is recorded as Dropped (and
//     FaultDropped) and never sent, not even retried or duplicated.
//   - WebhookDelay: a delivery's first attempt starts that long after Send.
//   - WebhookDuplicate: Send enqueues a second, independent Delivery with the
//     same URL, header and body (DuplicateOf names the first); both are
//     delivered and retried separately.
//   - WebhookReorder: deliveries are held for a window (WebhookDelay, or
//     DefaultReorderWindow when that is zero) starting at the first held
//     Send; when the window closes the whole batch is released in reverse
//     order of Send, and the receiver sees the first attempts in that order.
//     WebhookDelay is not added again to released deliveries.
//
// Close cancels queued deliveries, in-flight requests and pending retries and
// waits for every goroutine the Sender started.
package hook

import (
	"bytes"
	"context"
	"io"
	"net/http"
	"strconv"
	"sync"
	"time"

	"github.com/google/uuid"

	"github.com/paymentctl/paymentctl/fakepg/fault"
)

// Defaults used when Options leaves a field zero.
const (
	DefaultTimeout       = 10 * time.Second      // per-attempt timeout of the default client
	DefaultReorderWindow = 50 * time.Millisecond // hold window of WebhookReorder when WebhookDelay is zero
	DefaultKeep          = 10000                 // finished deliveries kept for inspection
)

// Attempt is one HTTP request of a delivery.
type Attempt struct {
	At       time.Time     // when the request started (Options.Now)
	Status   int           // 0 when the request failed before a response
	Err      string        // transport error text, "" on a response
	Duration time.Duration // wall time until the response headers or the error
	// Header is the header this attempt sent when Options.Sign made one
	// of its own; nil otherwise (the delivery's Header was sent).
	Header http.Header
}

// Delivery is one webhook and what became of it.
type Delivery struct {
	ID           string      // random UUID
	URL          string      // target; "" means the delivery was dropped
	Body         []byte      // request body as sent
	Header       http.Header // request header as sent (Content-Type etc.)
	Attempts     []Attempt   // in order
	Delivered    bool        // a 2xx was received
	GaveUp       bool        // every retry of the schedule failed
	Dropped      bool        // recorded but never sent: no URL, or FaultDropped
	FaultDropped bool        // dropped by the WebhookDropRate fault (URL is kept)
	Canceled     bool        // the Sender was closed before the delivery finished
	DuplicateOf  string      // ID of the delivery this one duplicates (WebhookDuplicate), else ""
	EnqueuedAt   time.Time   // when Send was called (Options.Now)
}

// Finished reports whether nothing more will happen to d.
func (d *Delivery) Finished() bool {
	return d.Delivered || d.GaveUp || d.Dropped || d.Canceled
}

// Options configures a Sender. The zero value sends once with no retries.
type Options struct {
	// Client sends the requests; nil means a client with DefaultTimeout.
	Client *http.Client
	// Backoff[n] is the delay before retry n+1, so len(Backoff) is the
	// number of retries after the first attempt; nil means no retries.
	Backoff []time.Duration
	// Faults supplies WebhookDelay, WebhookDuplicate and WebhookReorder,
	// read at each Send; nil means none.
	Faults *fault.Injector
	// Logf receives one line per finished delivery; nil discards. Bodies
	// are never logged.
	Logf func(format string, args ...any)
	// Now stamps Attempt.At and Delivery.EnqueuedAt; nil means time.Now.
	// Delays and backoffs always run on real timers.
	Now func() time.Time
	// Keep bounds how many deliveries Deliveries remembers: when exceeded,
	// the oldest finished ones are forgotten. Zero means DefaultKeep.
	Keep int
	// Sign, if set, is called before every attempt with a copy of the
	// delivery's header and its body; what it sets on the copy is sent
	// with that attempt (and kept in Attempt.Header). It is for
	// signatures that must be made afresh at every attempt, such as
	// Standard Webhooks' webhook-timestamp and webhook-signature, which a
	// receiver refuses once five minutes old.
	Sign func(header http.Header, body []byte)
}

// Sender delivers webhooks. Create it with NewSender and stop it with Close.
type Sender struct {
	client  *http.Client
	backoff []time.Duration
	faults  *fault.Injector
	logf    func(format string, args ...any)
	now     func() time.Time
	keep    int
	sign    func(header http.Header, body []byte)

	ctx    context.Context // canceled by Close; aborts in-flight requests
	cancel context.CancelFunc
	wg     sync.WaitGroup // pump, timer callbacks

	mu         sync.Mutex
	closed     bool
	deliveries []*Delivery          // enqueue order
	queue      []queued             // first attempts, in the order they leave
	pumping    bool                 // a pump goroutine is running
	held       []*Delivery          // WebhookReorder batch, in Send order
	holding    bool                 // a release timer for held is pending
	timers     map[*time.Timer]bool // pending retry and release timers
	changed    chan struct{}        // closed and replaced on every state change
}

type queued struct {
	d   *Delivery
	due time.Time // real (monotonic) time of the first attempt
}

// NewSender returns a Sender configured by opts. It starts no goroutine
// until the first Send.
func NewSender(opts Options) *Sender {
	s := &Sender{
		client:  opts.Client,
		backoff: append([]time.Duration(nil), opts.Backoff...),
		faults:  opts.Faults,
		logf:    opts.Logf,
		now:     opts.Now,
		keep:    opts.Keep,
		sign:    opts.Sign,
		timers:  make(map[*time.Timer]bool),
		changed: make(chan struct{}),
	}
	if s.client == nil {
		s.client = &http.Client{Timeout: DefaultTimeout}
	}
	if s.logf == nil {
		s.logf = func(string, ...any) {}
	}
	if s.now == nil {
		s.now = time.Now
	}
	if s.keep <= 0 {
		s.keep = DefaultKeep
	}
	s.ctx, s.cancel = context.WithCancel(context.Background())
	return s
}

// Send enqueues a POST of body to url and returns the new delivery's ID
// without waiting for it. header is copied; Content-Type defaults to
// application/json. An empty url records the delivery as Dropped and sends
// nothing, as does the WebhookDropRate fault when it fires; a closed Sender
// records it as Canceled.
func (s *Sender) Send(url string, header http.Header, body []byte) string {
	f := s.faults.Get()
	h := header.Clone()
	if h == nil {
		h = http.Header{}
	}
	if h.Get("Content-Type") == "" {
		h.Set("Content-Type", "application/json")
	}
	body = bytes.Clone(body)

	s.mu.Lock()
	defer s.mu.Unlock()
	defer s.notify()
	d := s.record(url, h, body)
	switch {
	case url == "":
		d.Dropped = true
		s.logf("webhook %s dropped: no URL", d.ID)
		return d.ID
	case s.closed:
		d.Canceled = true
		s.logf("webhook %s to %s canceled: sender closed", d.ID, url)
		return d.ID
	case s.faults.DropWebhook():
		d.Dropped, d.FaultDropped = true, true
		s.logf("webhook %s to %s dropped: injected fault", d.ID, url)
		return d.ID
	}
	batch := []*Delivery{d}
	if f.WebhookDuplicate {
		dup := s.record(url, h.Clone(), body)
		dup.DuplicateOf = d.ID
		batch = append(batch, dup)
	}
	if f.WebhookReorder {
		s.held = append(s.held, batch...)
		if !s.holding {
			s.holding = true
			window := f.WebhookDelay
			if window <= 0 {
				window = DefaultReorderWindow
			}
			s.afterFunc(window, s.releaseHeld)
		}
		return d.ID
	}
	due := time.Now().Add(f.WebhookDelay)
	for _, x := range batch {
		s.queue = append(s.queue, queued{d: x, due: due})
	}
	s.startPump()
	return d.ID
}

// Deliveries returns copies of the remembered deliveries in enqueue order.
func (s *Sender) Deliveries() []Delivery {
	s.mu.Lock()
	defer s.mu.Unlock()
	out := make([]Delivery, len(s.deliveries))
	for i, d := range s.deliveries {
		out[i] = copyDelivery(d)
	}
	return out
}

// Delivery returns a copy of the delivery with the given ID.
func (s *Sender) Delivery(id string) (Delivery, bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	for _, d := range s.deliveries {
		if d.ID == id {
			return copyDelivery(d), true
		}
	}
	return Delivery{}, false
}

// Wait blocks until every delivery has finished (delivered, gave up,
// dropped or canceled) or ctx is done, whose error it then returns.
func (s *Sender) Wait(ctx context.Context) error {
	for {
		s.mu.Lock()
		done := len(s.held) == 0
		for _, d := range s.deliveries {
			if !d.Finished() {
				done = false
				break
			}
		}
		changed := s.changed
		s.mu.Unlock()
		if done {
			return nil
		}
		select {
		case <-changed:
		case <-ctx.Done():
			return ctx.Err()
		}
	}
}

// Close cancels every queued, held, in-flight and retrying delivery (they
// end up Canceled), then waits for the Sender's goroutines to return. Later
// Sends are recorded as Canceled. Close may be called more than once.
func (s *Sender) Close() {
	s.mu.Lock()
	if !s.closed {
		s.closed = true
		s.cancel()
		for t := range s.timers {
			if t.Stop() {
				s.wg.Done() // its callback will never run
			}
		}
		clear(s.timers)
	}
	s.mu.Unlock()

	s.wg.Wait()

	s.mu.Lock()
	defer s.mu.Unlock()
	for _, d := range s.deliveries {
		if !d.Finished() {
			d.Canceled = true
		}
	}
	s.queue, s.held = nil, nil
	s.notify()
}

// record creates and remembers a delivery. The caller holds s.mu.
func (s *Sender) record(url string, h http.Header, body []byte) *Delivery {
	d := &Delivery{ID: uuid.NewString(), URL: url, Body: body, Header: h, EnqueuedAt: s.now()}
	s.deliveries = append(s.deliveries, d)
	s.forget()
	return d
}

// forget drops the oldest finished deliveries once more than keep are
// remembered, down to nine tenths of keep so the scan is amortised. The
// caller holds s.mu.
func (s *Sender) forget() {
	if len(s.deliveries) <= s.keep {
		return
	}
	excess := len(s.deliveries) - s.keep*9/10
	kept := s.deliveries[:0]
	for _, d := range s.deliveries {
		if excess > 0 && d.Finished() {
			excess--
			continue
		}
		kept = append(kept, d)
	}
	clear(s.deliveries[len(kept):])
	s.deliveries = kept
}

// startPump starts the goroutine that makes first attempts, unless one is
// running. The caller holds s.mu.
func (s *Sender) startPump() {
	if s.pumping || s.closed || len(s.queue) == 0 {
		return
	}
	s.pumping = true
	s.wg.Add(1)
	go s.pump()
}

// pump makes the first attempt of each queued delivery in queue order,
// waiting for each one's due time, and returns when the queue is empty or
// the Sender is closed.
func (s *Sender) pump() {
	defer s.wg.Done()
	for {
		s.mu.Lock()
		if s.closed || len(s.queue) == 0 {
			s.pumping = false
			s.mu.Unlock()
			return
		}
		q := s.queue[0]
		s.mu.Unlock()

		if wait := time.Until(q.due); wait > 0 {
			t := time.NewTimer(wait)
			select {
			case <-t.C:
			case <-s.ctx.Done():
				t.Stop()
				continue // the loop sees closed and returns
			}
		}
		s.mu.Lock()
		s.queue = s.queue[1:]
		s.mu.Unlock()
		s.attempt(q.d)
	}
}

// releaseHeld ends a WebhookReorder window: the held batch joins the queue
// in reverse order of Send, due at once.
func (s *Sender) releaseHeld() {
	s.mu.Lock()
	defer s.mu.Unlock()
	now := time.Now()
	for i := len(s.held) - 1; i >= 0; i-- {
		s.queue = append(s.queue, queued{d: s.held[i], due: now})
	}
	s.held = nil
	s.holding = false
	s.startPump()
}

// attempt sends d once and records the outcome: delivered, retry scheduled,
// gave up, or canceled when the Sender closed meanwhile.
func (s *Sender) attempt(d *Delivery) {
	// URL, Header and Body never change after record, so no lock is needed.
	a := Attempt{At: s.now()}
	header := d.Header
	if s.sign != nil {
		header = header.Clone()
		s.sign(header, d.Body)
		a.Header = header
	}
	start := time.Now()
	status, err := s.post(d.URL, header, d.Body)
	a.Duration = time.Since(start)
	a.Status = status
	if err != nil {
		a.Err = err.Error()
	}

	s.mu.Lock()
	defer s.mu.Unlock()
	defer s.notify()
	d.Attempts = append(d.Attempts, a)
	n := len(d.Attempts)
	switch {
	case err == nil && status >= 200 && status < 300:
		d.Delivered = true
		s.logf("webhook %s to %s delivered: status %d, attempt %d", d.ID, d.URL, status, n)
	case s.closed:
		d.Canceled = true
	case n-1 < len(s.backoff):
		s.afterFunc(s.backoff[n-1], func() { s.attempt(d) })
	default:
		d.GaveUp = true
		s.logf("webhook %s to %s gave up after %d attempts: %s", d.ID, d.URL, n, outcome(a))
	}
}

// post makes one request and returns the response status.
func (s *Sender) post(url string, header http.Header, body []byte) (int, error) {
	req, err := http.NewRequestWithContext(s.ctx, http.MethodPost, url, bytes.NewReader(body))
	if err != nil {
		return 0, err
	}
	req.Header = header.Clone()
	resp, err := s.client.Do(req)
	if err != nil {
		return 0, err
	}
	defer resp.Body.Close()
	// Drain a little so the connection can be reused; receivers' bodies
	// carry nothing the fakes need.
	_, _ = io.Copy(io.Discard, io.LimitReader(resp.Body, 64<<10))
	return resp.StatusCode, nil
}

// afterFunc runs fn after d on a timer that Close can stop. The caller holds
// s.mu, which the callback takes before reading t, so t is assigned first.
func (s *Sender) afterFunc(d time.Duration, fn func()) {
	s.wg.Add(1)
	var t *time.Timer
	t = time.AfterFunc(d, func() {
		defer s.wg.Done()
		s.mu.Lock()
		pending := s.timers[t]
		delete(s.timers, t)
		s.mu.Unlock()
		if pending {
			fn()
		}
	})
	s.timers[t] = true
}

// notify wakes every Wait. The caller holds s.mu.
func (s *Sender) notify() {
	close(s.changed)
	s.changed = make(chan struct{})
}

func outcome(a Attempt) string {
	if a.Err != "" {
		return a.Err
	}
	return "status " + strconv.Itoa(a.Status)
}

func copyDelivery(d *Delivery) Delivery {
	c := *d
	c.Body = bytes.Clone(d.Body)
	c.Header = d.Header.Clone()
	c.Attempts = append([]Attempt(nil), d.Attempts...)
	for i := range c.Attempts {
		c.Attempts[i].Header = c.Attempts[i].Header.Clone()
	}
	return c
}

// IamportBackoff returns the retry schedule PortOne v1 can be asked to use:
// five re-sends one minute apart (fake-pg.md §5.1).
func IamportBackoff() []time.Duration {
	b := make([]time.Duration, 5)
	for i := range b {
		b[i] = time.Minute
	}
	return b
}

// TossBackoff returns Toss Payments' retry schedule: seven retries after 1,
// 4, 16, 64, 256, 1024 and 4096 minutes (fake-pg.md §5.2).
func TossBackoff() []time.Duration {
	b := make([]time.Duration, 7)
	d := time.Minute
	for i := range b {
		b[i] = d
		d *= 4
	}
	return b
}

// PortOneBackoff returns PortOne V2's retry schedule: five retries after
// 1, 4, 16, 64 and 256 minutes (portone-v2.md §6.1). PortOne draws each
// delay uniformly between zero and that bound (full jitter); the fake
// waits the bound, so tests can predict it.
func PortOneBackoff() []time.Duration {
	b := make([]time.Duration, 5)
	d := time.Minute
	for i := range b {
		b[i] = d
		d *= 4
	}
	return b
}

// Scale returns a copy of b with every delay multiplied by factor, for tests
// that need a real schedule's shape without its wait.
func Scale(b []time.Duration, factor float64) []time.Duration {
	if b == nil {
		return nil
	}
	out := make([]time.Duration, len(b))
	for i, d := range b {
		out[i] = time.Duration(float64(d) * factor)
	}
	return out
}
