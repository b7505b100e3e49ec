package fault

import (
	"context"
	"io"
	"net/http"
	"net/http/httptest"
	"sync"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
)

// seq returns a rnd that yields vals in turn and counts its calls.
func seq(vals ...float64) (func() float64, *int) {
	calls := 0
	return func() float64 {
		v := vals[calls%len(vals)]
		calls++
		return v
	}, &calls
}

func TestNilInjector(t *testing.T) {
	var i *Injector
	i.Set(Faults{DeclineRate: 1, ErrorRate: 1})
	if diff := cmp.Diff(Faults{}, i.Get()); diff != "" {
		t.Errorf("Get() on nil injector (-want +got):\n%s", diff)
	}
	if i.Decline() {
		t.Error("Decline() = true on nil injector")
	}
	if i.Fail() {
		t.Error("Fail() = true on nil injector")
	}
	if i.DropWebhook() {
		t.Error("DropWebhook() = true on nil injector")
	}
	next := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { w.WriteHeader(http.StatusTeapot) })
	h := i.Middleware(next, nil)
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, httptest.NewRequest(http.MethodGet, "/", nil))
	if rec.Code != http.StatusTeapot {
		t.Errorf("status = %d, want %d (next called)", rec.Code, http.StatusTeapot)
	}
}

func TestRates(t *testing.T) {
	tests := []struct {
		name      string
		rate      float64
		rnd       []float64
		want      []bool
		wantCalls int // rnd calls for len(want) draws
	}{
		{name: "zero never fires", rate: 0, rnd: []float64{0}, want: []bool{false, false, false}, wantCalls: 0},
		{name: "negative never fires", rate: -0.5, rnd: []float64{0}, want: []bool{false, false}, wantCalls: 0},
		{name: "one always fires", rate: 1, rnd: []float64{0.999999}, want: []bool{true, true, true}, wantCalls: 0},
		{name: "above one always fires", rate: 7, rnd: []float64{0.5}, want: []bool{true}, wantCalls: 0},
		{name: "fraction compares the draw", rate: 0.3, rnd: []float64{0.1, 0.3, 0.29, 0.9}, want: []bool{true, false, true, false}, wantCalls: 4},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			for _, kind := range []string{"Decline", "Fail", "DropWebhook"} {
				rnd, calls := seq(tt.rnd...)
				var f Faults
				var draw func(*Injector) bool
				switch kind {
				case "Decline":
					f.DeclineRate, draw = tt.rate, (*Injector).Decline
				case "Fail":
					f.ErrorRate, draw = tt.rate, (*Injector).Fail
				default:
					f.WebhookDropRate, draw = tt.rate, (*Injector).DropWebhook
				}
				i := NewInjector(f, rnd)
				var got []bool
				for range tt.want {
					got = append(got, draw(i))
				}
				if diff := cmp.Diff(tt.want, got); diff != "" {
					t.Errorf("%s (-want +got):\n%s", kind, diff)
				}
				if *calls != tt.wantCalls {
					t.Errorf("%s: rnd called %d times, want %d", kind, *calls, tt.wantCalls)
				}
			}
		})
	}
}

func TestDefaultRandIsUsed(t *testing.T) {
	i := NewInjector(Faults{DeclineRate: 0.5}, nil)
	var yes, no int
	for range 2000 {
		if i.Decline() {
			yes++
		} else {
			no++
		}
	}
	// Both outcomes must occur; the chance of a false failure is 2^-1999.
	if yes == 0 || no == 0 {
		t.Errorf("declined %d of 2000 at rate 0.5", yes)
	}
}

func TestSetGet(t *testing.T) {
	i := NewInjector(Faults{Latency: time.Second}, nil)
	if got := i.Get().Latency; got != time.Second {
		t.Errorf("initial Latency = %v, want 1s", got)
	}
	want := Faults{
		DeclineRate: 0.25, ErrorRate: 0.5, WebhookDelay: time.Millisecond, WebhookDuplicate: true, WebhookReorder: true,
		RouteLatency:    []RouteLatency{{Route: Route{Method: "POST", Path: "/x"}, Latency: time.Second}},
		DropResponse:    []Route{{Path: "/y"}},
		WebhookDropRate: 0.5,
	}
	i.Set(want)
	if diff := cmp.Diff(want, i.Get()); diff != "" {
		t.Errorf("Get after Set (-want +got):\n%s", diff)
	}

	// Neither the Set argument nor a Get result shares its slices.
	want.RouteLatency[0].Latency = time.Hour
	got := i.Get()
	got.DropResponse[0].Path = "/changed"
	if again := i.Get(); again.RouteLatency[0].Latency != time.Second || again.DropResponse[0].Path != "/y" {
		t.Errorf("the injector's faults changed through a copy: %+v", again)
	}
}

func TestMiddleware(t *testing.T) {
	next := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.WriteHeader(http.StatusOK)
		io.WriteString(w, "next")
	})
	customFail := func(w http.ResponseWriter, r *http.Request) {
		w.WriteHeader(http.StatusInternalServerError)
		io.WriteString(w, `{"code":"PROVIDER_ERROR"}`)
	}
	tests := []struct {
		name       string
		faults     Faults
		rnd        float64
		fail       func(http.ResponseWriter, *http.Request)
		wantStatus int
		wantBody   string
		minElapsed time.Duration
	}{
		{name: "no faults passes through", wantStatus: 200, wantBody: "next"},
		{name: "latency then next", faults: Faults{Latency: 30 * time.Millisecond}, wantStatus: 200, wantBody: "next", minElapsed: 30 * time.Millisecond},
		{name: "error rate 1 uses fail", faults: Faults{ErrorRate: 1}, fail: customFail, wantStatus: 500, wantBody: `{"code":"PROVIDER_ERROR"}`},
		{name: "error rate 1 with nil fail answers plain 500", faults: Faults{ErrorRate: 1}, wantStatus: 500, wantBody: "injected fault\n"},
		{name: "fractional error rate draw below fails", faults: Faults{ErrorRate: 0.5}, rnd: 0.49, fail: customFail, wantStatus: 500, wantBody: `{"code":"PROVIDER_ERROR"}`},
		{name: "fractional error rate draw above passes", faults: Faults{ErrorRate: 0.5}, rnd: 0.5, fail: customFail, wantStatus: 200, wantBody: "next"},
		{name: "latency and error", faults: Faults{Latency: 20 * time.Millisecond, ErrorRate: 1}, fail: customFail, wantStatus: 500, wantBody: `{"code":"PROVIDER_ERROR"}`, minElapsed: 20 * time.Millisecond},
		{name: "decline rate does not affect the API", faults: Faults{DeclineRate: 1}, wantStatus: 200, wantBody: "next"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			rnd, _ := seq(tt.rnd)
			h := NewInjector(tt.faults, rnd).Middleware(next, tt.fail)
			rec := httptest.NewRecorder()
			start := time.Now()
			h.ServeHTTP(rec, httptest.NewRequest(http.MethodPost, "/v1/payments", nil))
			elapsed := time.Since(start)
			if rec.Code != tt.wantStatus || rec.Body.String() != tt.wantBody {
				t.Errorf("got %d %q, want %d %q", rec.Code, rec.Body.String(), tt.wantStatus, tt.wantBody)
			}
			if elapsed < tt.minElapsed {
				t.Errorf("answered after %v, want at least %v", elapsed, tt.minElapsed)
			}
		})
	}
}

func TestMiddlewareLatencyStopsOnCancel(t *testing.T) {
	called := false
	next := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { called = true })
	h := NewInjector(Faults{Latency: time.Hour}, nil).Middleware(next, nil)
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, httptest.NewRequest(http.MethodGet, "/", nil).WithContext(ctx))
	if called {
		t.Error("next called for a canceled request")
	}
}

func TestSetWhileServing(t *testing.T) {
	i := NewInjector(Faults{}, nil)
	next := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { w.WriteHeader(http.StatusOK) })
	srv := httptest.NewServer(i.Middleware(next, nil))
	defer srv.Close()

	stop := make(chan struct{})
	var wg sync.WaitGroup
	wg.Go(func() {
		for n := 0; ; n++ {
			select {
			case <-stop:
				return
			default:
			}
			i.Set(Faults{ErrorRate: float64(n % 2), Latency: time.Duration(n%3) * time.Microsecond, DeclineRate: 0.5})
			i.Decline()
		}
	})
	var got500, got200 bool
	for range 50 {
		resp, err := srv.Client().Get(srv.URL)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		got500 = got500 || resp.StatusCode == 500
		got200 = got200 || resp.StatusCode == 200
	}
	close(stop)
	wg.Wait()

	// Once the writer stops, a final Set decides every answer.
	i.Set(Faults{ErrorRate: 1})
	resp, err := srv.Client().Get(srv.URL)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != 500 {
		t.Errorf("after Set(ErrorRate: 1) status = %d, want 500", resp.StatusCode)
	}
	i.Set(Faults{})
	resp, err = srv.Client().Get(srv.URL)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != 200 {
		t.Errorf("after Set(zero) status = %d, want 200", resp.StatusCode)
	}
	t.Logf("while toggling: saw 500=%v 200=%v", got500, got200)
}
