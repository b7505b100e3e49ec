package jsoncall_test

import (
	"context"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/paymentctl/paymentctl/gateway/jsoncall"
)

// pgError is what the test's ParseError makes of a non-2xx answer.
type pgError struct {
	status int
	body   string
}

func (e *pgError) Error() string { return "pg said no" }

// seen is what the test server saw of a request.
type seen struct {
	Method, Path, Query, Auth, Accept, ContentType, Idempotency, Body string
}

const secret = "Bearer sk_secret_never_in_errors"

func TestDo(t *testing.T) {
	type answer struct {
		ID     string `json:"id"`
		Amount int64  `json:"amount"`
	}
	tests := []struct {
		name       string
		call       jsoncall.Call
		status     int
		body       string
		want       seen
		wantOut    *answer
		wantErr    string // prefix of the error; "" for none
		wantPG     *pgError
		wantDecode bool
	}{
		{
			name:    "GET decodes a 2xx answer",
			call:    jsoncall.Call{Method: http.MethodGet, Path: "/v1/payments/pk_1", Out: &answer{}},
			status:  200,
			body:    `{"id":"pk_1","amount":1000}`,
			want:    seen{Method: "GET", Path: "/v1/payments/pk_1", Auth: secret, Accept: "application/json"},
			wantOut: &answer{ID: "pk_1", Amount: 1000},
		},
		{
			name: "POST sends JSON, the query and extra headers",
			call: jsoncall.Call{Method: http.MethodPost, Path: "/payments/p/cancel", Query: url.Values{"storeId": {"store-1"}},
				Header: http.Header{"Idempotency-Key": {"k-1"}}, In: map[string]int64{"amount": 500}, Out: &answer{}},
			status: 200,
			body:   `{"id":"p","amount":500}`,
			want: seen{Method: "POST", Path: "/payments/p/cancel", Query: "storeId=store-1", Auth: secret, Accept: "application/json",
				ContentType: "application/json", Idempotency: "k-1", Body: `{"amount":500}`},
			wantOut: &answer{ID: "p", Amount: 500},
		},
		{
			name:   "a header of the call replaces Do's",
			call:   jsoncall.Call{Method: http.MethodGet, Path: "/x", Header: http.Header{"Accept": {"text/plain"}}},
			status: 204,
			want:   seen{Method: "GET", Path: "/x", Auth: secret, Accept: "text/plain"},
		},
		{
			name:    "a non-2xx answer is the PG's error, wrapped",
			call:    jsoncall.Call{Method: http.MethodDelete, Path: "/billing-keys/bk", Query: url.Values{"reason": {"r"}}, Out: &answer{}},
			status:  409,
			body:    `{"code":"ALREADY_DELETED"}`,
			want:    seen{Method: "DELETE", Path: "/billing-keys/bk", Query: "reason=r", Auth: secret, Accept: "application/json"},
			wantErr: "pg DELETE /billing-keys/bk: pg said no",
			wantPG:  &pgError{status: 409, body: `{"code":"ALREADY_DELETED"}`},
		},
		{
			name:    "a 3xx is not a success",
			call:    jsoncall.Call{Method: http.MethodGet, Path: "/moved"},
			status:  304,
			want:    seen{Method: "GET", Path: "/moved", Auth: secret, Accept: "application/json"},
			wantErr: "pg GET /moved: pg said no",
			wantPG:  &pgError{status: 304},
		},
		{
			name:       "an answer that is not the JSON expected",
			call:       jsoncall.Call{Method: http.MethodGet, Path: "/v1/payments/pk_2", Out: &answer{}},
			status:     200,
			body:       `<html>`,
			want:       seen{Method: "GET", Path: "/v1/payments/pk_2", Auth: secret, Accept: "application/json"},
			wantErr:    "pg GET /v1/payments/pk_2: decode response: ",
			wantDecode: true,
		},
		{
			name:   "Out nil discards a 2xx answer",
			call:   jsoncall.Call{Method: http.MethodPut, Path: "/internal/pk/deposit"},
			status: 200,
			body:   `not json at all`,
			want:   seen{Method: "PUT", Path: "/internal/pk/deposit", Auth: secret, Accept: "application/json"},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var got seen
			srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				b, _ := io.ReadAll(r.Body)
				got = seen{Method: r.Method, Path: r.URL.Path, Query: r.URL.RawQuery, Auth: r.Header.Get("Authorization"),
					Accept: r.Header.Get("Accept"), ContentType: r.Header.Get("Content-Type"),
					Idempotency: r.Header.Get("Idempotency-Key"), Body: string(b)}
				w.WriteHeader(tt.status)
				io.WriteString(w, tt.body)
			}))
			defer srv.Close()
			c := client(srv.URL, time.Minute)
			err := c.Do(context.Background(), tt.call)
			if diff := cmp.Diff(tt.want, got); diff != "" {
				t.Errorf("request mismatch (-want +got):\n%s", diff)
			}
			if tt.wantErr == "" {
				if err != nil {
					t.Fatalf("Do() = %v, want nil", err)
				}
			} else if err == nil || !strings.HasPrefix(err.Error(), tt.wantErr) {
				t.Fatalf("Do() = %v, want an error starting %q", err, tt.wantErr)
			}
			if err != nil && strings.Contains(err.Error(), "sk_secret") {
				t.Errorf("Do() = %v: the credentials are in the error", err)
			}
			if tt.wantPG != nil {
				var pe *pgError
				if !errors.As(err, &pe) || *pe != *tt.wantPG {
					t.Errorf("Do() = %v, want it to wrap %+v", err, tt.wantPG)
				}
			}
			if tt.wantDecode {
				var se *json.SyntaxError
				if !errors.As(err, &se) {
					t.Errorf("Do() = %v, want it to wrap the decoder's error", err)
				}
			}
			if tt.wantOut != nil {
				if diff := cmp.Diff(tt.wantOut, tt.call.Out); diff != "" {
					t.Errorf("Out mismatch (-want +got):\n%s", diff)
				}
			}
		})
	}
}

// client is a jsoncall.Client of base whose ParseError keeps what it got.
func client(base string, timeout time.Duration) *jsoncall.Client {
	return &jsoncall.Client{
		PG: "pg", Base: base, Auth: secret, HTTP: &http.Client{}, Timeout: timeout,
		ParseError: func(status int, body []byte) error { return &pgError{status: status, body: string(body)} },
	}
}

func TestDoFailsBeforeAnAnswer(t *testing.T) {
	// The server answers once the client gave up: the outcome does not
	// depend on how long anything takes.
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { <-r.Context().Done() }))
	defer srv.Close()
	tests := []struct {
		name    string
		c       *jsoncall.Client
		call    jsoncall.Call
		wantErr string
		wantIs  error
	}{
		{"timeout", client(srv.URL, time.Millisecond), jsoncall.Call{Method: http.MethodGet, Path: "/slow"},
			"pg GET /slow: ", context.DeadlineExceeded},
		{"a body that cannot be encoded", client(srv.URL, time.Minute), jsoncall.Call{Method: http.MethodPost, Path: "/x", In: func() {}},
			"pg POST /x: encode request: ", nil},
		{"a bad method", client(srv.URL, time.Minute), jsoncall.Call{Method: "BAD METHOD", Path: "/x"},
			"pg BAD METHOD /x: ", nil},
		{"nothing listening", client("http://127.0.0.1:0", time.Minute), jsoncall.Call{Method: http.MethodGet, Path: "/x"},
			"pg GET /x: ", nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := tt.c.Do(context.Background(), tt.call)
			if err == nil || !strings.HasPrefix(err.Error(), tt.wantErr) {
				t.Fatalf("Do() = %v, want an error starting %q", err, tt.wantErr)
			}
			if tt.wantIs != nil && !errors.Is(err, tt.wantIs) {
				t.Errorf("Do() = %v, want it to wrap %v", err, tt.wantIs)
			}
			if strings.Contains(err.Error(), "sk_secret") {
				t.Errorf("Do() = %v: the credentials are in the error", err)
			}
		})
	}
}

func TestSnippet(t *testing.T) {
	tests := []struct {
		name, in, want string
	}{
		{"empty", "", ""},
		{"one line", "  Bad\n\tGateway \r\n", "Bad Gateway"},
		{"200 bytes", strings.Repeat("a", 200), strings.Repeat("a", 200)},
		{"cut", strings.Repeat("a", 201), strings.Repeat("a", 200) + "..."},
		{"cut inside a character", strings.Repeat("a", 199) + "결제", strings.Repeat("a", 199) + "..."},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := jsoncall.Snippet([]byte(tt.in)); got != tt.want {
				t.Errorf("Snippet(%.40q) = %q, want %q", tt.in, got, tt.want)
			}
		})
	}
}
