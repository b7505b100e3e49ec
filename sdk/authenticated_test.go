package sdk_test

import (
	"context"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/paymentctl/paymentctl/sdk"
	"github.com/paymentctl/paymentctl/wirecrypt"
)

// gcmStub answers PATCH /payments/histories/{id} with the GCM body made by
// reply from the request's plaintext, sent as contentType.
func gcmStub(t *testing.T, contentType string, reply func(g *wirecrypt.GCM, plain []byte) []byte) *httptest.Server {
	g, err := wirecrypt.NewGCM(testKey)
	if err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		raw, _ := io.ReadAll(r.Body)
		if r.Header.Get("Content-Type") != wirecrypt.GCMContentType || r.Header.Get("Accept") != wirecrypt.GCMContentType {
			writeError(w, http.StatusBadRequest, "not the GCM format")
			return
		}
		plain, err := g.Decrypt(raw, wirecrypt.Request)
		if err != nil {
			writeError(w, http.StatusBadRequest, "Failed to decrypt the request body.")
			return
		}
		w.Header().Set("Content-Type", contentType)
		w.Write(reply(g, plain))
	}))
	t.Cleanup(srv.Close)
	return srv
}

func TestAuthenticatedBodiesClient(t *testing.T) {
	const answer = `{"id":"` + historyID + `","vendor_code":"iamport"}`
	cbc := mustCipher(t)
	tests := []struct {
		name        string
		contentType string
		reply       func(g *wirecrypt.GCM, plain []byte) []byte
		wantErr     string // empty: success
	}{
		{"round trip", wirecrypt.GCMContentType, func(g *wirecrypt.GCM, plain []byte) []byte {
			if string(plain) != `{"password":"pw"}` {
				return g.Encrypt([]byte(`{"id":"wrong request"}`), wirecrypt.Response)
			}
			return g.Encrypt([]byte(answer), wirecrypt.Response)
		}, ""},
		{"a CBC answer is refused", "text/plain; charset=utf-8", func(*wirecrypt.GCM, []byte) []byte {
			return cbc.Encrypt([]byte(answer))
		}, "not the authenticated format"},
		{"a tampered answer is refused", wirecrypt.GCMContentType, func(g *wirecrypt.GCM, _ []byte) []byte {
			b := g.Encrypt([]byte(answer), wirecrypt.Response)
			b[20] ^= 'A' ^ 'B'
			return b
		}, "malformed encrypted body"},
		{"a request body echoed back is refused", wirecrypt.GCMContentType, func(g *wirecrypt.GCM, _ []byte) []byte {
			return g.Encrypt([]byte(answer), wirecrypt.Request)
		}, "authentication failed"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			srv := gcmStub(t, tt.contentType, tt.reply)
			c, err := sdk.New(sdk.Options{BaseURL: srv.URL, Key: testKey, IV: testIV, AuthenticatedBodies: true})
			if err != nil {
				t.Fatal(err)
			}
			got, err := c.History(context.Background(), historyID, "pw")
			switch {
			case tt.wantErr == "" && (err != nil || got.ID != historyID):
				t.Errorf("History = %+v, %v; want id %s", got, err, historyID)
			case tt.wantErr != "" && (err == nil || !strings.Contains(err.Error(), tt.wantErr)):
				t.Errorf("History = %+v, %v; want an error mentioning %q", got, err, tt.wantErr)
			}
		})
	}
}
