package server_test

import (
	"bytes"
	"context"
	"crypto/aes"
	"crypto/cipher"
	"encoding/base64"
	"io"
	"mime"
	"net/http"
	"strings"
	"sync"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/google/uuid"

	"github.com/paymentctl/paymentctl/sdk"
	"github.com/paymentctl/paymentctl/server/requestid"
	"github.com/paymentctl/paymentctl/wirecrypt"
)

// answer is one HTTP answer, as compared byte for byte.
type answer struct {
	Status int
	Header http.Header
	Body   string
}

// send sends body with contentType to PATCH /payments/histories/{random id}
// and returns the answer; extra headers are set on the request.
func send(t *testing.T, url, contentType string, body []byte, extra http.Header) answer {
	t.Helper()
	return do(t, http.MethodPatch, url+"/payments/histories/"+uuid.NewString(), contentType, body, extra)
}

// do sends one request and returns its answer, Date header removed: the
// only header that may change between two equal answers.
func do(t *testing.T, method, url, contentType string, body []byte, extra http.Header) answer {
	t.Helper()
	req, err := http.NewRequest(method, url, bytes.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Content-Type", contentType)
	for k, vs := range extra {
		req.Header[k] = vs
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	h := resp.Header.Clone()
	h.Del("Date")
	h.Del(requestid.Header) // each request's own
	return answer{Status: resp.StatusCode, Header: h, Body: string(b)}
}

// cbcBlocks encrypts whole blocks under the test connection key with no
// padding added, so a test can make a ciphertext whose padding is wrong.
func cbcBlocks(t *testing.T, blocks []byte) []byte {
	t.Helper()
	b, err := aes.NewCipher([]byte(connectionKey))
	if err != nil {
		t.Fatal(err)
	}
	out := make([]byte, len(blocks))
	cipher.NewCBCEncrypter(b, []byte(connectionIV)).CryptBlocks(out, blocks)
	return []byte(base64.StdEncoding.EncodeToString(out))
}

// unreadableBodies are request bodies that fail to decrypt, each for a
// different reason, with the content type they are sent with.
func unreadableBodies(t *testing.T) []struct {
	name, contentType string
	body              []byte
} {
	cbc, err := wirecrypt.New(connectionKey, connectionIV)
	if err != nil {
		t.Fatal(err)
	}
	gcm, err := wirecrypt.NewGCM(connectionKey)
	if err != nil {
		t.Fatal(err)
	}
	sealed, _ := base64.StdEncoding.DecodeString(string(gcm.Encrypt([]byte(`{"password":"some-password"}`), wirecrypt.Request)))
	sealed[len(sealed)-1] ^= 1
	badPad := append([]byte(`{"password":"some-password"}`), 0, 0, 0, 4) // 32 bytes ending in a bad pad
	return []struct {
		name, contentType string
		body              []byte
	}{
		{"padding error", "text/plain", cbcBlocks(t, badPad)},
		{"bad base64", "text/plain", []byte("this is not base64!")},
		{"wrong-length ciphertext", "text/plain", []byte(base64.StdEncoding.EncodeToString(make([]byte, 24)))},
		{"JSON error", "text/plain", cbc.Encrypt([]byte(`{"password":`))},
		{"not JSON at all", "text/plain", cbc.Encrypt([]byte("hello"))},
		{"not UTF-8", "text/plain", cbc.Encrypt([]byte("{\"password\":\"\xff\xfe\"}"))},
		{"tampered GCM", wirecrypt.GCMContentType, []byte(base64.StdEncoding.EncodeToString(sealed))},
		{"CBC body sent as GCM", wirecrypt.GCMContentType, cbc.Encrypt([]byte(`{"password":"some-password"}`))},
		{"GCM body sent as CBC", "text/plain", gcm.Encrypt([]byte(`{"password":"some-password"}`), wirecrypt.Request)},
	}
}

// TestUnreadableBodiesAnswerAlike is the padding oracle's absence: a
// padding error, a bad base64, a wrong length, a JSON error, non-UTF-8 and
// a body that does not authenticate get one and the same answer, status,
// headers and body.
func TestUnreadableBodiesAnswerAlike(t *testing.T) {
	// Throttling counts these bodies; the limit is raised so it answers none.
	h := startEnv(t, backends()[0].dsn(t), map[string]string{"PAYMENT_THROTTLE_FAILURES": "1000"})
	var first answer
	for i, b := range unreadableBodies(t) {
		got := send(t, h.srv.URL, b.contentType, b.body, nil)
		if i == 0 {
			first = got
			if got.Status != http.StatusBadRequest || !strings.Contains(got.Body, "Failed to decrypt the request body.") {
				t.Fatalf("%s: %+v, want 400 Failed to decrypt the request body.", b.name, got)
			}
			continue
		}
		if diff := cmp.Diff(first, got); diff != "" {
			t.Errorf("%s answered unlike the padding error (-padding error +%s):\n%s", b.name, b.name, diff)
		}
	}
}

// recorder notes the media types of the requests a client sends and of
// the answers it gets.
type recorder struct {
	next http.RoundTripper
	mu   sync.Mutex
	seen []string // "request type -> answer type"
}

func (r *recorder) RoundTrip(req *http.Request) (*http.Response, error) {
	resp, err := r.next.RoundTrip(req)
	if err == nil {
		in, _, _ := mime.ParseMediaType(req.Header.Get("Content-Type"))
		out, _, _ := mime.ParseMediaType(resp.Header.Get("Content-Type"))
		r.mu.Lock()
		r.seen = append(r.seen, req.Method+" "+in+" -> "+out)
		r.mu.Unlock()
	}
	return resp, err
}

func TestAuthenticatedBodies(t *testing.T) {
	forEachBackend(t, func(t *testing.T, dsn func(t *testing.T) string) {
		h := start(t, dsn(t))
		ctx := context.Background()
		rec := &recorder{next: http.DefaultTransport}
		api, err := sdk.New(sdk.Options{BaseURL: h.srv.URL, Key: connectionKey, IV: connectionIV,
			AuthenticatedBodies: true, HTTPClient: &http.Client{Transport: rec}})
		if err != nil {
			t.Fatal(err)
		}
		src := newSource()
		p := h.iamportCard(src, 10000)
		hist, err := api.CreateHistory(ctx, sdk.HistoryCreate{
			Vendor: sdk.Vendor{Code: sdk.VendorIamport, StoreID: iamportStoreID, UID: p.ImpUID}, Source: src,
			Price: 10000, Password: testPassword, WebhookURL: h.webhookURL(),
		})
		if err != nil {
			t.Fatalf("register: %v", err)
		}
		got, err := api.History(ctx, hist.ID, testPassword)
		if err != nil || got.ID != hist.ID {
			t.Fatalf("read by id: %+v, %v", got, err)
		}
		cancelled, err := api.CancelHistory(ctx, sdk.CancelCreate{Source: src, Password: testPassword, Price: 4000, Reason: "r"})
		if err != nil || cancelled.Refund == nil || *cancelled.Refund != 4000 {
			t.Fatalf("cancel: %+v, %v", cancelled, err)
		}
		if _, err := api.System(ctx); err != nil {
			t.Fatalf("system: %v", err)
		}
		if _, err := api.History(ctx, hist.ID, "nope"); statusOf(err) != http.StatusForbidden {
			t.Errorf("wrong password: %v, want 403", err)
		}
		gcm := wirecrypt.GCMContentType
		want := []string{
			"POST " + gcm + " -> " + gcm,
			"PATCH " + gcm + " -> " + gcm,
			"PUT " + gcm + " -> " + gcm,
			"GET  -> " + gcm, // no body: the Accept header chose the format
			"PATCH " + gcm + " -> application/json",
		}
		if diff := cmp.Diff(want, rec.seen); diff != "" {
			t.Errorf("media types on the wire (-want +got):\n%s", diff)
		}

		// The CBC client still reads the same record.
		if again, err := h.api.History(ctx, hist.ID, testPassword); err != nil || again.ID != hist.ID {
			t.Errorf("CBC read: %+v, %v", again, err)
		}
	})
}
