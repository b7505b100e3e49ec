package stdwebhook_test

import (
	"bytes"
	"encoding/base64"
	"errors"
	"net/http"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/paymentctl/paymentctl/internal/stdwebhook"
)

// The Standard Webhooks specification's published test vector.
const (
	vectorSecret    = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"
	vectorID        = "msg_p5jXN8AQM9LWM0D4loKWxJek"
	vectorTimestamp = 1614265330
	vectorBody      = `{"test": 2432232314}`
	vectorSignature = "v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE="
)

func vectorKey(t *testing.T) []byte {
	t.Helper()
	key, err := stdwebhook.DecodeSecret(vectorSecret)
	if err != nil {
		t.Fatal(err)
	}
	return key
}

func TestSignVector(t *testing.T) {
	key := vectorKey(t)
	if got := stdwebhook.Sign(key, vectorID, time.Unix(vectorTimestamp, 500), []byte(vectorBody)); got != vectorSignature {
		t.Errorf("Sign = %q, want %q", got, vectorSignature)
	}
	h := stdwebhook.Header([][]byte{[]byte("other"), key}, vectorID, time.Unix(vectorTimestamp, 0), []byte(vectorBody))
	if got := h.Get(stdwebhook.SignatureHeader); !strings.HasSuffix(got, " "+vectorSignature) {
		t.Errorf("Header signature = %q, want two signatures ending in %q", got, vectorSignature)
	}
	if got := h.Get(stdwebhook.TimestampHeader); got != strconv.Itoa(vectorTimestamp) {
		t.Errorf("Header timestamp = %q, want %d", got, vectorTimestamp)
	}
}

func header(id, ts, sig string) http.Header {
	h := http.Header{}
	for k, v := range map[string]string{stdwebhook.IDHeader: id, stdwebhook.TimestampHeader: ts, stdwebhook.SignatureHeader: sig} {
		if v != "" {
			h.Set(k, v)
		}
	}
	return h
}

func TestVerify(t *testing.T) {
	key := vectorKey(t)
	other := []byte("the other secret during a rotation")
	sent := time.Unix(vectorTimestamp, 0)
	ts := strconv.Itoa(vectorTimestamp)
	mac := strings.TrimPrefix(vectorSignature, "v1,")
	raw, _ := base64.StdEncoding.DecodeString(mac)
	otherSig := stdwebhook.Sign(other, vectorID, sent, []byte(vectorBody))

	tests := []struct {
		name   string
		keys   [][]byte
		header http.Header
		body   string
		now    time.Time
		want   error
	}{
		{"valid", [][]byte{key}, header(vectorID, ts, vectorSignature), vectorBody, sent, nil},
		{"second key of a rotation", [][]byte{other, key}, header(vectorID, ts, vectorSignature), vectorBody, sent, nil},
		{"second signature", [][]byte{key}, header(vectorID, ts, otherSig+" "+vectorSignature), vectorBody, sent, nil},
		{"unknown scheme skipped", [][]byte{key}, header(vectorID, ts, "v1a,xyz "+vectorSignature), vectorBody, sent, nil},
		{"url-safe unpadded", [][]byte{key}, header(vectorID, ts, "v1,"+base64.RawURLEncoding.EncodeToString(raw)), vectorBody, sent, nil},
		{"exactly at the tolerance", [][]byte{key}, header(vectorID, ts, vectorSignature), vectorBody, sent.Add(5 * time.Minute), nil},
		{"tampered body", [][]byte{key}, header(vectorID, ts, vectorSignature), `{"test": 2432232315}`, sent, stdwebhook.ErrSignature},
		{"tampered id", [][]byte{key}, header("msg_other", ts, vectorSignature), vectorBody, sent, stdwebhook.ErrSignature},
		{"wrong key", [][]byte{other}, header(vectorID, ts, vectorSignature), vectorBody, sent, stdwebhook.ErrSignature},
		{"no keys", nil, header(vectorID, ts, vectorSignature), vectorBody, sent, stdwebhook.ErrSignature},
		{"empty key ignored", [][]byte{{}}, header(vectorID, ts, "v1,"+base64.StdEncoding.EncodeToString(emptyKeyMAC())), vectorBody, sent, stdwebhook.ErrSignature},
		{"bare signature", [][]byte{key}, header(vectorID, ts, mac), vectorBody, sent, stdwebhook.ErrSignature},
		{"v2 scheme", [][]byte{key}, header(vectorID, ts, "v2,"+mac), vectorBody, sent, stdwebhook.ErrSignature},
		{"too old", [][]byte{key}, header(vectorID, ts, vectorSignature), vectorBody, sent.Add(5*time.Minute + time.Second), stdwebhook.ErrTimestamp},
		{"too new", [][]byte{key}, header(vectorID, ts, vectorSignature), vectorBody, sent.Add(-5*time.Minute - time.Second), stdwebhook.ErrTimestamp},
		{"milliseconds", [][]byte{key}, header(vectorID, ts+"000", vectorSignature), vectorBody, sent, stdwebhook.ErrTimestamp},
		{"no id", [][]byte{key}, header("", ts, vectorSignature), vectorBody, sent, stdwebhook.ErrHeader},
		{"no timestamp", [][]byte{key}, header(vectorID, "", vectorSignature), vectorBody, sent, stdwebhook.ErrHeader},
		{"no signature", [][]byte{key}, header(vectorID, ts, ""), vectorBody, sent, stdwebhook.ErrHeader},
		{"timestamp not an integer", [][]byte{key}, header(vectorID, ts+".5", vectorSignature), vectorBody, sent, stdwebhook.ErrHeader},
		{"repeated id", [][]byte{key}, func() http.Header {
			h := header(vectorID, ts, vectorSignature)
			h.Add(stdwebhook.IDHeader, "msg_2")
			return h
		}(), vectorBody, sent, stdwebhook.ErrHeader},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := stdwebhook.Verify(tt.keys, tt.header, []byte(tt.body), 0, tt.now)
			if tt.want == nil && err != nil || tt.want != nil && !errors.Is(err, tt.want) {
				t.Errorf("Verify = %v, want %v", err, tt.want)
			}
		})
	}
}

// emptyKeyMAC is the MAC of the vector under an empty key, which Verify
// must never accept.
func emptyKeyMAC() []byte {
	sig := stdwebhook.Sign(nil, vectorID, time.Unix(vectorTimestamp, 0), []byte(vectorBody))
	b, _ := base64.StdEncoding.DecodeString(strings.TrimPrefix(sig, "v1,"))
	return b
}

func TestDecodeSecret(t *testing.T) {
	want, _ := base64.StdEncoding.DecodeString("MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw")
	tests := []struct {
		name, in string
		want     []byte
		wantErr  bool
	}{
		{"prefixed", vectorSecret, want, false},
		{"unprefixed", "MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw", want, false},
		{"spaces", " " + vectorSecret + "\n", want, false},
		{"unpadded", "whsec_YWJj", []byte("abc"), false},
		{"unpadded with a partial group", "whsec_YWI", []byte("ab"), false},
		{"not base64", "whsec_not base64!", nil, true},
		{"empty", "whsec_", nil, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := stdwebhook.DecodeSecret(tt.in)
			if (err != nil) != tt.wantErr || !bytes.Equal(got, tt.want) {
				t.Errorf("DecodeSecret(%q) = %x, %v; want %x, error %v", tt.in, got, err, tt.want, tt.wantErr)
			}
			if err != nil && strings.Contains(err.Error(), strings.TrimPrefix(tt.in, "whsec_")) && tt.in != "whsec_" {
				t.Errorf("error %q contains the secret", err)
			}
		})
	}
	if got := stdwebhook.EncodeSecret(want); got != vectorSecret {
		t.Errorf("EncodeSecret = %q, want %q", got, vectorSecret)
	}
}
