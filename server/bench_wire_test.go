package server_test

import (
	"bytes"
	"context"
	"encoding/base64"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"testing"
	"time"

	"github.com/google/uuid"

	"github.com/paymentctl/paymentctl/config"
	"github.com/paymentctl/paymentctl/server"
	"github.com/paymentctl/paymentctl/wirecrypt"
)

// oracleQueries returns the two bodies a padding-oracle attacker tells
// apart: a captured ciphertext whose first block was altered so that the
// padding of the second is right (and the JSON garbled), and one altered
// so that it is wrong. They have the same length.
func oracleQueries(tb testing.TB) (goodPad, badPad []byte) {
	tb.Helper()
	cbc, err := wirecrypt.New(connectionKey, connectionIV)
	if err != nil {
		tb.Fatal(err)
	}
	raw, _ := base64.StdEncoding.DecodeString(string(cbc.Encrypt([]byte(`{"password":"some-password"}`))))
	for v := 1; v < 256 && (goodPad == nil || badPad == nil); v++ {
		b := bytes.Clone(raw)
		b[15] ^= byte(v)
		text := []byte(base64.StdEncoding.EncodeToString(b))
		if _, ok := cbc.DecryptUniform(text); ok && goodPad == nil {
			goodPad = text
		} else if !ok && badPad == nil {
			badPad = text
		}
	}
	if goodPad == nil || badPad == nil {
		tb.Fatal("no alteration gave both outcomes")
	}
	return goodPad, badPad
}

// BenchmarkOracleQueries times the server's answer to the two queries of
// a padding oracle, handler only (no socket), throttling off so that the
// failure count's write does not dominate: the two should not differ.
func BenchmarkOracleQueries(b *testing.B) {
	dsn := "sqlite:" + filepath.Join(b.TempDir(), "payments.db")
	cfg, err := config.Load(config.LoadOptions{LookupEnv: func(k string) (string, bool) {
		v, ok := map[string]string{"PAYMENT_DATABASE_URL": dsn, "PAYMENT_METRICS_ADDR": "127.0.0.1:0", "PAYMENT_THROTTLE_FAILURES": "0"}[k]
		return v, ok
	}})
	if err != nil {
		b.Fatal(err)
	}
	srv, err := server.Start(context.Background(), server.Options{Config: cfg, FakeIamportAddr: "127.0.0.1:0", FakeTossAddr: "127.0.0.1:0", FakePortOneAddr: "127.0.0.1:0"}, "")
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		srv.Close(ctx)
	})
	goodPad, badPad := oracleQueries(b)
	path := "/payments/histories/" + uuid.NewString()
	for _, q := range []struct {
		name string
		body []byte
	}{{"padding_right", goodPad}, {"padding_wrong", badPad}} {
		b.Run(q.name, func(b *testing.B) {
			for b.Loop() {
				req := httptest.NewRequest(http.MethodPatch, path, bytes.NewReader(q.body))
				req.Header.Set("Content-Type", wirecrypt.ContentType)
				rec := httptest.NewRecorder()
				srv.Handler.ServeHTTP(rec, req)
				if rec.Code != http.StatusBadRequest {
					b.Fatalf("%s: %d %s", q.name, rec.Code, rec.Body)
				}
			}
		})
	}
}
