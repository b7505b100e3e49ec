package hook

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
	"runtime"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/paymentctl/paymentctl/fakepg/fault"
)

// receiver is a webhook target that answers from a script of statuses
// (the last one repeats; 0 means drop the connection) and records requests.
type receiver struct {
	t      *testing.T
	srv    *httptest.Server
	mu     sync.Mutex
	script []int
	got    []received
}

type received struct {
	body   string
	header http.Header
	at     time.Time
}

func newReceiver(t *testing.T, script ...int) *receiver {
	t.Helper()
	r := &receiver{t: t, script: script}
	r.srv = httptest.NewServer(http.HandlerFunc(r.serve))
	t.Cleanup(r.srv.Close)
	return r
}

func (r *receiver) serve(w http.ResponseWriter, req *http.Request) {
	var b strings.Builder
	if _, err := fmt.Fprint(&b, readAll(req)); err != nil {
		r.t.Error(err)
	}
	r.mu.Lock()
	n := len(r.got)
	r.got = append(r.got, received{body: b.String(), header: req.Header.Clone(), at: time.Now()})
	status := http.StatusOK
	if len(r.script) > 0 {
		status = r.script[min(n, len(r.script)-1)]
	}
	r.mu.Unlock()
	if status == 0 {
		conn, _, err := http.NewResponseController(w).Hijack()
		if err != nil {
			r.t.Error(err)
			return
		}
		conn.Close()
		return
	}
	w.WriteHeader(status)
}

func readAll(req *http.Request) string {
	var sb strings.Builder
	buf := make([]byte, 512)
	for {
		n, err := req.Body.Read(buf)
		sb.Write(buf[:n])
		if err != nil {
			return sb.String()
		}
	}
}

func (r *receiver) bodies() []string {
	r.mu.Lock()
	defer r.mu.Unlock()
	var out []string
	for _, g := range r.got {
		out = append(out, g.body)
	}
	return out
}

func (r *receiver) requests() []received {
	r.mu.Lock()
	defer r.mu.Unlock()
	return append([]received(nil), r.got...)
}

func wait(t *testing.T, s *Sender) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if err := s.Wait(ctx); err != nil {
		t.Fatalf("Wait: %v", err)
	}
}

func newSender(t *testing.T, opts Options) *Sender {
	t.Helper()
	if opts.Logf == nil {
		opts.Logf = t.Logf
	}
	s := NewSender(opts)
	t.Cleanup(s.Close)
	return s
}

// summary is the comparable part of a Delivery.
type summary struct {
	Statuses  []int
	HasErr    []bool
	Delivered bool
	GaveUp    bool
	Dropped   bool
	Canceled  bool
}

func summarize(d Delivery) summary {
	s := summary{Delivered: d.Delivered, GaveUp: d.GaveUp, Dropped: d.Dropped, Canceled: d.Canceled}
	for _, a := range d.Attempts {
		s.Statuses = append(s.Statuses, a.Status)
		s.HasErr = append(s.HasErr, a.Err != "")
	}
	return s
}

func closedURL(t *testing.T) string {
	t.Helper()
	srv := httptest.NewServer(http.NotFoundHandler())
	url := srv.URL
	srv.Close()
	return url
}

func TestDeliveryOutcomes(t *testing.T) {
	short := Scale(IamportBackoff(), 1e-4) // 5 × 6 ms
	tests := []struct {
		name    string
		script  []int // receiver answers; nil → closed server
		backoff []time.Duration
		want    summary
	}{
		{
			name:   "delivered on first 2xx",
			script: []int{200},
			want:   summary{Statuses: []int{200}, HasErr: []bool{false}, Delivered: true},
		},
		{
			name:   "any 2xx counts",
			script: []int{201},
			want:   summary{Statuses: []int{201}, HasErr: []bool{false}, Delivered: true},
		},
		{
			name:    "retried after 500 then delivered",
			script:  []int{500, 200},
			backoff: short,
			want:    summary{Statuses: []int{500, 200}, HasErr: []bool{false, false}, Delivered: true},
		},
		{
			name:    "redirects and client errors are retried too",
			script:  []int{404, 302, 204},
			backoff: short,
			want:    summary{Statuses: []int{404, 302, 204}, HasErr: []bool{false, false, false}, Delivered: true},
		},
		{
			name:    "retried after a dropped connection",
			script:  []int{0, 200},
			backoff: short,
			want:    summary{Statuses: []int{0, 200}, HasErr: []bool{true, false}, Delivered: true},
		},
		{
			name:    "gives up after the schedule",
			script:  []int{503},
			backoff: short[:3],
			want:    summary{Statuses: []int{503, 503, 503, 503}, HasErr: []bool{false, false, false, false}, GaveUp: true},
		},
		{
			name:   "no backoff means one attempt",
			script: []int{500},
			want:   summary{Statuses: []int{500}, HasErr: []bool{false}, GaveUp: true},
		},
		{
			name:    "closed server: every attempt records the error, then gives up",
			backoff: short[:2],
			want:    summary{Statuses: []int{0, 0, 0}, HasErr: []bool{true, true, true}, GaveUp: true},
		},
		{
			name:    "full Toss schedule, scaled down",
			script:  []int{500},
			backoff: Scale(TossBackoff(), 1e-6), // 60 µs … 246 ms
			want:    summary{Statuses: []int{500, 500, 500, 500, 500, 500, 500, 500}, HasErr: make([]bool, 8), GaveUp: true},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var url string
			var r *receiver
			if tt.script == nil {
				url = closedURL(t)
			} else {
				r = newReceiver(t, tt.script...)
				url = r.srv.URL
			}
			s := newSender(t, Options{Backoff: tt.backoff})
			id := s.Send(url, nil, []byte(`{"imp_uid":"imp_1","status":"paid"}`))
			wait(t, s)
			d, ok := s.Delivery(id)
			if !ok {
				t.Fatalf("Delivery(%q) not found", id)
			}
			if diff := cmp.Diff(tt.want, summarize(d)); diff != "" {
				t.Errorf("delivery (-want +got):\n%s", diff)
			}
			if r != nil && len(r.requests()) != len(tt.want.Statuses) {
				t.Errorf("receiver saw %d requests, want %d", len(r.requests()), len(tt.want.Statuses))
			}
			for i, a := range d.Attempts {
				if a.At.Before(d.EnqueuedAt) {
					t.Errorf("attempt %d at %v, before enqueue %v", i, a.At, d.EnqueuedAt)
				}
				if i > 0 && a.At.Sub(d.Attempts[i-1].At) < tt.backoff[i-1] {
					t.Errorf("retry %d came %v after the previous attempt, want at least %v", i, a.At.Sub(d.Attempts[i-1].At), tt.backoff[i-1])
				}
			}
		})
	}
}

func TestRequestShape(t *testing.T) {
	tests := []struct {
		name            string
		header          http.Header
		wantContentType string
	}{
		{name: "content type defaults to JSON", wantContentType: "application/json"},
		{name: "given content type is kept", header: http.Header{"Content-Type": {"application/x-www-form-urlencoded"}}, wantContentType: "application/x-www-form-urlencoded"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := newReceiver(t)
			s := newSender(t, Options{})
			h := tt.header.Clone()
			if h == nil {
				h = http.Header{}
			}
			h.Set("X-Test", "yes")
			body := []byte("imp_uid=imp_1&status=paid")
			id := s.Send(r.srv.URL, h, body)
			body[0] = 'X'                        // the sender copied the body
			h.Set("X-Test", "changed-by-caller") // and the header
			wait(t, s)

			reqs := r.requests()
			if len(reqs) != 1 {
				t.Fatalf("receiver saw %d requests, want 1", len(reqs))
			}
			if got := reqs[0].body; got != "imp_uid=imp_1&status=paid" {
				t.Errorf("body = %q", got)
			}
			if got := reqs[0].header.Get("Content-Type"); got != tt.wantContentType {
				t.Errorf("Content-Type = %q, want %q", got, tt.wantContentType)
			}
			if got := reqs[0].header.Get("X-Test"); got != "yes" {
				t.Errorf("X-Test = %q, want yes", got)
			}
			d, _ := s.Delivery(id)
			if got := d.Header.Get("Content-Type"); got != tt.wantContentType {
				t.Errorf("recorded Content-Type = %q, want %q", got, tt.wantContentType)
			}
			if d.URL != r.srv.URL || string(d.Body) != "imp_uid=imp_1&status=paid" {
				t.Errorf("recorded URL %q body %q", d.URL, d.Body)
			}
		})
	}
}

func TestSignEachAttempt(t *testing.T) {
	r := newReceiver(t, 503, 503, 200)
	n := 0
	s := newSender(t, Options{
		Backoff: []time.Duration{time.Millisecond, time.Millisecond},
		Sign: func(h http.Header, body []byte) {
			n++
			h.Set("X-Signature", fmt.Sprintf("%d:%s", n, body))
		},
	})
	id := s.Send(r.srv.URL, http.Header{"X-Id": {"msg_1"}}, []byte("b"))
	wait(t, s)
	reqs := r.requests()
	if len(reqs) != 3 {
		t.Fatalf("receiver saw %d requests, want 3", len(reqs))
	}
	d, _ := s.Delivery(id)
	for i, req := range reqs {
		want := fmt.Sprintf("%d:b", i+1)
		if got := req.header.Get("X-Signature"); got != want || req.header.Get("X-Id") != "msg_1" {
			t.Errorf("attempt %d: X-Signature %q, X-Id %q; want %q, msg_1", i+1, got, req.header.Get("X-Id"), want)
		}
		if got := d.Attempts[i].Header.Get("X-Signature"); got != want {
			t.Errorf("recorded attempt %d: X-Signature %q, want %q", i+1, got, want)
		}
	}
	if d.Header.Get("X-Signature") != "" {
		t.Errorf("the delivery's own header was signed: %v", d.Header)
	}
}

func TestEmptyURLIsDropped(t *testing.T) {
	s := newSender(t, Options{Backoff: []time.Duration{time.Millisecond}})
	id := s.Send("", nil, []byte(`{}`))
	if id == "" {
		t.Fatal("Send returned no ID")
	}
	wait(t, s)
	d, ok := s.Delivery(id)
	if !ok {
		t.Fatal("dropped delivery not recorded")
	}
	if diff := cmp.Diff(summary{Dropped: true}, summarize(d)); diff != "" {
		t.Errorf("delivery (-want +got):\n%s", diff)
	}
}

func TestFirstAttemptsInOrder(t *testing.T) {
	r := newReceiver(t)
	s := newSender(t, Options{})
	var want []string
	var ids []string
	for i := range 8 {
		b := fmt.Sprint(i)
		want = append(want, b)
		ids = append(ids, s.Send(r.srv.URL, nil, []byte(b)))
	}
	wait(t, s)
	if diff := cmp.Diff(want, r.bodies()); diff != "" {
		t.Errorf("arrival order (-want +got):\n%s", diff)
	}
	var gotIDs []string
	for _, d := range s.Deliveries() {
		gotIDs = append(gotIDs, d.ID)
	}
	if diff := cmp.Diff(ids, gotIDs); diff != "" {
		t.Errorf("Deliveries order (-want +got):\n%s", diff)
	}
}

func TestWebhookDelay(t *testing.T) {
	const delay = 40 * time.Millisecond
	r := newReceiver(t)
	s := newSender(t, Options{Faults: fault.NewInjector(fault.Faults{WebhookDelay: delay}, nil)})
	sent := time.Now()
	id := s.Send(r.srv.URL, nil, []byte(`{}`))
	wait(t, s)
	reqs := r.requests()
	if len(reqs) != 1 {
		t.Fatalf("receiver saw %d requests, want 1", len(reqs))
	}
	if got := reqs[0].at.Sub(sent); got < delay {
		t.Errorf("delivered %v after Send, want at least %v", got, delay)
	}
	d, _ := s.Delivery(id)
	if got := d.Attempts[0].At.Sub(d.EnqueuedAt); got < delay {
		t.Errorf("first attempt %v after enqueue, want at least %v", got, delay)
	}
}

func TestWebhookDuplicate(t *testing.T) {
	r := newReceiver(t)
	s := newSender(t, Options{Faults: fault.NewInjector(fault.Faults{WebhookDuplicate: true}, nil)})
	id := s.Send(r.srv.URL, nil, []byte(`{"n":1}`))
	wait(t, s)
	if diff := cmp.Diff([]string{`{"n":1}`, `{"n":1}`}, r.bodies()); diff != "" {
		t.Errorf("received (-want +got):\n%s", diff)
	}
	ds := s.Deliveries()
	if len(ds) != 2 {
		t.Fatalf("%d deliveries, want 2", len(ds))
	}
	if ds[0].ID != id || ds[1].ID == id || ds[1].DuplicateOf != id || ds[0].DuplicateOf != "" {
		t.Errorf("IDs: Send returned %q; deliveries %q (dup of %q), %q (dup of %q)", id, ds[0].ID, ds[0].DuplicateOf, ds[1].ID, ds[1].DuplicateOf)
	}
	for i, d := range ds {
		if !d.Delivered {
			t.Errorf("delivery %d not delivered", i)
		}
	}
}

func TestWebhookDropRate(t *testing.T) {
	tests := []struct {
		name     string
		rate     float64
		draws    []float64
		wantSent []string
	}{
		{name: "one drops everything", rate: 1, draws: []float64{0}, wantSent: nil},
		{name: "zero drops nothing", rate: 0, draws: []float64{0}, wantSent: []string{"0", "1", "2"}},
		{name: "a share", rate: 0.5, draws: []float64{0.2, 0.7, 0.4}, wantSent: []string{"1"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := newReceiver(t)
			n := 0
			rnd := func() float64 { v := tt.draws[n%len(tt.draws)]; n++; return v }
			// Duplicates and retries must not resurrect a dropped webhook.
			faults := fault.NewInjector(fault.Faults{WebhookDropRate: tt.rate, WebhookDuplicate: true}, rnd)
			s := newSender(t, Options{Faults: faults, Backoff: []time.Duration{time.Millisecond}})
			var ids []string
			for i := range 3 {
				ids = append(ids, s.Send(r.srv.URL, nil, []byte(fmt.Sprint(i))))
			}
			wait(t, s)
			var sent []string
			for _, b := range r.bodies() {
				if len(sent) == 0 || sent[len(sent)-1] != b {
					sent = append(sent, b) // one per duplicated pair
				}
			}
			if diff := cmp.Diff(tt.wantSent, sent); diff != "" {
				t.Errorf("received (-want +got):\n%s", diff)
			}
			for i, id := range ids {
				d, _ := s.Delivery(id)
				dropped := !slices.Contains(tt.wantSent, fmt.Sprint(i))
				if d.Dropped != dropped || d.FaultDropped != dropped || (dropped && (len(d.Attempts) != 0 || d.URL != r.srv.URL)) {
					t.Errorf("delivery %d: Dropped %v FaultDropped %v attempts %d URL %q; want dropped=%v with the URL kept",
						i, d.Dropped, d.FaultDropped, len(d.Attempts), d.URL, dropped)
				}
			}
		})
	}
}

func TestWebhookReorder(t *testing.T) {
	tests := []struct {
		name   string
		faults fault.Faults
		sends  int
		want   []string
	}{
		{name: "default window", faults: fault.Faults{WebhookReorder: true}, sends: 4, want: []string{"3", "2", "1", "0"}},
		{name: "window is WebhookDelay", faults: fault.Faults{WebhookReorder: true, WebhookDelay: 80 * time.Millisecond}, sends: 3, want: []string{"2", "1", "0"}},
		{name: "with duplicates", faults: fault.Faults{WebhookReorder: true, WebhookDuplicate: true}, sends: 2, want: []string{"1", "1", "0", "0"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := newReceiver(t)
			s := newSender(t, Options{Faults: fault.NewInjector(tt.faults, nil)})
			start := time.Now()
			for i := range tt.sends {
				s.Send(r.srv.URL, nil, []byte(fmt.Sprint(i)))
			}
			wait(t, s)
			if diff := cmp.Diff(tt.want, r.bodies()); diff != "" {
				t.Errorf("arrival order (-want +got):\n%s", diff)
			}
			window := tt.faults.WebhookDelay
			if window == 0 {
				window = DefaultReorderWindow
			}
			if got := r.requests()[0].at.Sub(start); got < window {
				t.Errorf("first delivery %v after the first Send, want at least the window %v", got, window)
			}
		})
	}
}

func TestReorderBatches(t *testing.T) {
	// Two windows: each batch is reversed on its own, batches keep their order.
	r := newReceiver(t)
	s := newSender(t, Options{Faults: fault.NewInjector(fault.Faults{WebhookReorder: true, WebhookDelay: 30 * time.Millisecond}, nil)})
	s.Send(r.srv.URL, nil, []byte("a1"))
	s.Send(r.srv.URL, nil, []byte("a2"))
	wait(t, s)
	s.Send(r.srv.URL, nil, []byte("b1"))
	s.Send(r.srv.URL, nil, []byte("b2"))
	wait(t, s)
	if diff := cmp.Diff([]string{"a2", "a1", "b2", "b1"}, r.bodies()); diff != "" {
		t.Errorf("arrival order (-want +got):\n%s", diff)
	}
}

func TestWaitHonoursContext(t *testing.T) {
	r := newReceiver(t, 500)
	s := newSender(t, Options{Backoff: []time.Duration{time.Hour}})
	s.Send(r.srv.URL, nil, []byte(`{}`))
	ctx, cancel := context.WithTimeout(context.Background(), 50*time.Millisecond)
	defer cancel()
	if err := s.Wait(ctx); !errors.Is(err, context.DeadlineExceeded) {
		t.Errorf("Wait = %v, want deadline exceeded", err)
	}
}

// senderGoroutines counts goroutines running code of this package.
func senderGoroutines() int {
	buf := make([]byte, 1<<20)
	buf = buf[:runtime.Stack(buf, true)]
	n := 0
	for _, g := range strings.Split(string(buf), "\n\n") {
		if strings.Contains(g, "fakepg/hook.(*Sender)") {
			n++
		}
	}
	return n
}

// closeWithin fails the test if Close does not return in time: a Close that
// waited for an hour-long retry timer would hang here, not pass slowly.
func closeWithin(t *testing.T, s *Sender) {
	t.Helper()
	done := make(chan struct{})
	go func() { s.Close(); close(done) }()
	select {
	case <-done:
	case <-time.After(10 * time.Second):
		t.Fatal("Close did not return")
	}
}

func TestCloseCancels(t *testing.T) {
	tests := []struct {
		name         string
		script       []int
		faults       fault.Faults
		backoff      []time.Duration
		waitAttempts int // attempts to see before closing
		block        bool
		want         summary
	}{
		{
			name:         "pending retry",
			script:       []int{500},
			backoff:      []time.Duration{time.Hour},
			waitAttempts: 1,
			want:         summary{Statuses: []int{500}, HasErr: []bool{false}, Canceled: true},
		},
		{
			name:   "delayed first attempt",
			faults: fault.Faults{WebhookDelay: time.Hour},
			want:   summary{Canceled: true},
		},
		{
			name:   "held for reordering",
			faults: fault.Faults{WebhookReorder: true, WebhookDelay: time.Hour},
			want:   summary{Canceled: true},
		},
		{
			name:         "request in flight",
			block:        true,
			backoff:      []time.Duration{time.Millisecond},
			waitAttempts: 0,
			want:         summary{Statuses: []int{0}, HasErr: []bool{true}, Canceled: true},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			arrived := make(chan struct{}, 10)
			r := newReceiver(t, tt.script...)
			handler := r.srv.Config.Handler
			r.srv.Config.Handler = http.HandlerFunc(func(w http.ResponseWriter, req *http.Request) {
				if tt.block {
					// Consume the body: only then does the server watch
					// the connection and cancel the request context
					// when the client goes away.
					readAll(req)
					arrived <- struct{}{}
					<-req.Context().Done()
					return
				}
				handler.ServeHTTP(w, req)
			})
			before := senderGoroutines()
			s := NewSender(Options{Backoff: tt.backoff, Faults: fault.NewInjector(tt.faults, nil), Logf: t.Logf})
			id := s.Send(r.srv.URL, nil, []byte(`{}`))

			if tt.block {
				<-arrived
			}
			for deadline := time.Now().Add(10 * time.Second); ; {
				d, _ := s.Delivery(id)
				if len(d.Attempts) >= tt.waitAttempts {
					break
				}
				if time.Now().After(deadline) {
					t.Fatalf("no attempt %d within 10 s", tt.waitAttempts)
				}
				time.Sleep(time.Millisecond)
			}

			closeWithin(t, s)
			// A goroutine that has just run its deferred wg.Done may
			// still be on its way out; give it a moment, not forever.
			for deadline := time.Now().Add(5 * time.Second); senderGoroutines() > before; time.Sleep(time.Millisecond) {
				if time.Now().After(deadline) {
					t.Errorf("%d sender goroutines left after Close (had %d before)", senderGoroutines(), before)
					break
				}
			}
			wait(t, s) // nothing is left unfinished
			d, _ := s.Delivery(id)
			if diff := cmp.Diff(tt.want, summarize(d)); diff != "" {
				t.Errorf("delivery (-want +got):\n%s", diff)
			}
		})
	}
}

func TestSendAfterClose(t *testing.T) {
	r := newReceiver(t)
	s := NewSender(Options{})
	s.Close()
	s.Close() // idempotent
	id := s.Send(r.srv.URL, nil, []byte(`{}`))
	wait(t, s)
	d, ok := s.Delivery(id)
	if !ok {
		t.Fatal("delivery not recorded")
	}
	if diff := cmp.Diff(summary{Canceled: true}, summarize(d)); diff != "" {
		t.Errorf("delivery (-want +got):\n%s", diff)
	}
	if n := len(r.requests()); n != 0 {
		t.Errorf("receiver saw %d requests after Close", n)
	}
}

func TestKeepForgetsOldestFinished(t *testing.T) {
	s := newSender(t, Options{Keep: 10})
	var ids []string
	for i := range 25 {
		ids = append(ids, s.Send("", nil, []byte(fmt.Sprint(i))))
	}
	ds := s.Deliveries()
	if len(ds) > 10 {
		t.Errorf("%d deliveries remembered, want at most 10", len(ds))
	}
	if got, want := ds[len(ds)-1].ID, ids[len(ids)-1]; got != want {
		t.Errorf("newest delivery %q, want %q", got, want)
	}
	if _, ok := s.Delivery(ids[0]); ok {
		t.Error("oldest delivery still remembered")
	}
}

func TestKeepRetainsUnfinished(t *testing.T) {
	s := newSender(t, Options{Keep: 3, Faults: fault.NewInjector(fault.Faults{WebhookDelay: time.Hour}, nil)})
	pending := s.Send(closedURL(t), nil, nil)
	for range 10 {
		s.Send("", nil, nil)
	}
	if _, ok := s.Delivery(pending); !ok {
		t.Error("an unfinished delivery was forgotten")
	}
}

func TestConcurrentSends(t *testing.T) {
	r := newReceiver(t, 500, 200)
	s := newSender(t, Options{Backoff: []time.Duration{time.Millisecond}})
	var wg sync.WaitGroup
	for g := range 4 {
		wg.Go(func() {
			for i := range 10 {
				s.Send(r.srv.URL, nil, []byte(fmt.Sprint(g, i)))
				s.Deliveries()
			}
		})
	}
	wg.Wait()
	wait(t, s)
	ds := s.Deliveries()
	if len(ds) != 40 {
		t.Fatalf("%d deliveries, want 40", len(ds))
	}
	for _, d := range ds {
		if !d.Delivered {
			t.Errorf("delivery %s not delivered: %+v", d.ID, summarize(d))
		}
	}
}

func TestSchedules(t *testing.T) {
	m := time.Minute
	tests := []struct {
		name string
		got  []time.Duration
		want []time.Duration
	}{
		{name: "iamport", got: IamportBackoff(), want: []time.Duration{m, m, m, m, m}},
		{name: "toss", got: TossBackoff(), want: []time.Duration{m, 4 * m, 16 * m, 64 * m, 256 * m, 1024 * m, 4096 * m}},
		{name: "portone", got: PortOneBackoff(), want: []time.Duration{m, 4 * m, 16 * m, 64 * m, 256 * m}},
		{name: "scale", got: Scale([]time.Duration{m, 2 * m}, 0.001), want: []time.Duration{60 * time.Millisecond, 120 * time.Millisecond}},
		{name: "scale nil", got: Scale(nil, 2), want: nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if diff := cmp.Diff(tt.want, tt.got); diff != "" {
				t.Errorf("(-want +got):\n%s", diff)
			}
		})
	}
	b := TossBackoff()
	Scale(b, 0)
	if b[0] != m {
		t.Error("Scale modified its input")
	}
}
