package skeleton_test

import (
	"context"
	"io"
	"net/http"
	"net/http/httptest"
	"sync/atomic"
	"testing"
	"time"

	"github.com/paymentctl/paymentctl/fakepg/fault"
	"github.com/paymentctl/paymentctl/fakepg/skeleton"
)

func TestNotifyWaitsForTheAnswer(t *testing.T) {
	var answered atomic.Bool
	got := make(chan bool, 1)
	receiver := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		got <- answered.Load()
	}))
	defer receiver.Close()

	s := skeleton.New(skeleton.Config{Name: "test", WebhookURL: receiver.URL, Backoff: []time.Duration{}})
	defer s.Close()
	s.Handle("POST /change", http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		s.Notify(r, "", nil, []byte(`{}`))
		// Were the webhook sent now, the receiver would see false.
		time.Sleep(20 * time.Millisecond)
		answered.Store(true)
		skeleton.WriteJSON(w, http.StatusOK, map[string]int{"n": 1}, nil)
	}))
	srv := httptest.NewServer(s)
	defer srv.Close()
	resp, err := http.Post(srv.URL+"/change", "application/json", nil)
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if string(body) != `{"n":1}` || resp.Header.Get("Content-Type") != "application/json; charset=utf-8" {
		t.Errorf("answer %q, %q", body, resp.Header.Get("Content-Type"))
	}
	select {
	case after := <-got:
		if !after {
			t.Error("the webhook left before the answer")
		}
	case <-time.After(5 * time.Second):
		t.Fatal("no webhook")
	}
}

func TestNoRoute(t *testing.T) {
	type seen struct {
		status int
		allow  string
	}
	var last seen
	s := skeleton.New(skeleton.Config{
		NoRoute: func(w http.ResponseWriter, r *http.Request, allow string) {
			last = seen{http.StatusNotFound, allow}
			if allow != "" {
				last.status = http.StatusMethodNotAllowed
			}
			w.WriteHeader(last.status)
		},
	})
	defer s.Close()
	s.Handle("GET /things/{id}", http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {}))
	tests := []struct {
		method, path string
		want         seen
	}{
		{"GET", "/nothing", seen{404, ""}},
		{"DELETE", "/things/1", seen{405, "GET, HEAD"}},
	}
	for _, tt := range tests {
		rec := httptest.NewRecorder()
		s.ServeHTTP(rec, httptest.NewRequest(tt.method, tt.path, nil))
		if last != tt.want || rec.Code != tt.want.status {
			t.Errorf("%s %s: NoRoute saw %+v, answered %d; want %+v", tt.method, tt.path, last, rec.Code, tt.want)
		}
	}
}

func TestDefaultsAndFaults(t *testing.T) {
	failed := false
	s := skeleton.New(skeleton.Config{
		Faults:      fault.NewInjector(fault.Faults{ErrorRate: 1}, nil),
		FaultAnswer: func(w http.ResponseWriter, _ *http.Request) { failed = true; w.WriteHeader(599) },
	})
	defer s.Close()
	if o := s.StoreOptions(); o.TTL != skeleton.DefaultTTL || o.Capacity != skeleton.DefaultCapacity || o.Now == nil {
		t.Errorf("StoreOptions = %+v", o)
	}
	rec := httptest.NewRecorder()
	s.ServeHTTP(rec, httptest.NewRequest("GET", "/x", nil))
	if !failed || rec.Code != 599 {
		t.Errorf("ErrorRate 1: answered %d, fault answer used %v", rec.Code, failed)
	}
	s.SetWebhookURL("http://127.0.0.1:1/")
	if s.WebhookURL() != "http://127.0.0.1:1/" {
		t.Errorf("WebhookURL = %q", s.WebhookURL())
	}
	// Outside a call, Notify sends at once.
	s.Notify(httptest.NewRequest("POST", "/", nil), "", nil, nil)
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	if err := s.Webhooks().Wait(ctx); err != nil {
		t.Fatal(err)
	}
	if ds := s.Webhooks().Deliveries(); len(ds) != 1 || ds[0].URL != "http://127.0.0.1:1/" {
		t.Errorf("deliveries = %+v", ds)
	}
}
