package openapitest_test

import (
	"net/http"
	"strings"
	"testing"

	"github.com/paymentctl/paymentctl/openapi/openapitest"
	"github.com/paymentctl/paymentctl/wirecrypt"
)

const (
	key = "MCKOxv9B23r7EatArCFcBP03nfaS03T8"
	iv  = "9haeYD1tIf4v8xs7"
)

// history is a valid History as JSON.
const history = `{"id":"3f0c8a36-7d0e-4a53-8a4b-0a8a3f7e2b11","vendor_code":"iamport",
"vendor":{"code":"iamport","store_id":"s","uid":"imp_1"},
"source":{"schema":"a","table":"b","id":"0b0e5c0e-5e0f-4c51-9a43-5d8f0a6d8f10"},
"data":{"imp_uid":"imp_1"},"currency":"KRW","price":1000,"refund":null,"webhook_url":null,
"created_at":"2026-11-24T10:00:00.123456Z","paid_at":null,"cancelled_at":null,"cancels":[]}`

func TestCheckResponse(t *testing.T) {
	spec, err := openapitest.Load()
	if err != nil {
		t.Fatal(err)
	}
	keys, err := openapitest.NewKeys(key, iv)
	if err != nil {
		t.Fatal(err)
	}
	cbc, err := wirecrypt.New(key, iv)
	if err != nil {
		t.Fatal(err)
	}
	gcm, err := wirecrypt.NewGCM(key)
	if err != nil {
		t.Fatal(err)
	}
	plain := http.Header{"Content-Type": {"text/plain; charset=utf-8"}}
	jsonType := http.Header{"Content-Type": {"application/json; charset=utf-8"}}
	tests := []struct {
		name         string
		method, path string
		status       int
		header       http.Header
		body         string
		wantErr      string // "" for none
	}{
		{name: "encrypted history", method: "PATCH", path: "/payments/histories/3f0c8a36-7d0e-4a53-8a4b-0a8a3f7e2b11",
			status: 200, header: plain, body: string(cbc.Encrypt([]byte(history)))},
		{name: "authenticated history", method: "POST", path: "/payments/histories", status: 201,
			header: http.Header{"Content-Type": {wirecrypt.GCMContentType}}, body: string(gcm.Encrypt([]byte(history), wirecrypt.Response))},
		{name: "literal path before template", method: "PATCH", path: "/payments/histories/get", status: 200, header: plain,
			body: string(cbc.Encrypt([]byte(history)))},
		{name: "field missing", method: "POST", path: "/payments/histories", status: 201, header: plain,
			body: string(cbc.Encrypt([]byte(strings.Replace(history, `"currency":"KRW",`, "", 1)))), wantErr: "currency"},
		{name: "not a uuid", method: "POST", path: "/payments/histories", status: 201, header: plain,
			body: string(cbc.Encrypt([]byte(strings.Replace(history, `"3f0c8a36-7d0e-4a53-8a4b-0a8a3f7e2b11"`, `"x"`, 1)))), wantErr: "uuid"},
		{name: "sent unencrypted", method: "POST", path: "/payments/histories", status: 201, header: plain, body: history, wantErr: "aes-cbc"},
		{name: "undocumented status", method: "PATCH", path: "/payments/histories/get", status: 418, header: jsonType,
			body: `{"statusCode":418,"message":"x","error":"I'm a teapot"}`, wantErr: "does not list"},
		{name: "error with code", method: "PATCH", path: "/payments/histories/get", status: 403, header: jsonType,
			body: `{"statusCode":403,"message":"Wrong password.","error":"Forbidden","code":"wrong_password"}`},
		{name: "error of another shape", method: "PATCH", path: "/payments/histories/get", status: 403, header: jsonType,
			body: `{"message":"Wrong password."}`, wantErr: "statusCode"},
		{name: "empty success", method: "GET", path: "/monitors/health", status: 200},
		{name: "body where none is documented", method: "GET", path: "/monitors/health", status: 200, header: jsonType, body: `{}`, wantErr: "describes none"},
		{name: "no body where one is documented", method: "GET", path: "/monitors/system", status: 200, wantErr: "no body"},
		{name: "unknown path", method: "GET", path: "/nowhere", status: 404, header: jsonType,
			body: `{"statusCode":404,"message":"Cannot GET /nowhere","error":"Not Found","code":"not_found"}`},
		{name: "unknown path answered 200", method: "GET", path: "/nowhere", status: 200, wantErr: "no path"},
		{name: "other method", method: "DELETE", path: "/payments/histories", status: 405, header: jsonType,
			body: `{"statusCode":405,"message":"Cannot DELETE /payments/histories","error":"Method Not Allowed","code":"method_not_allowed"}`},
		{name: "probe text", method: "GET", path: "/readyz", status: 503, header: plain,
			body: "[-]serving failed: draining\n[+]database ok\nreadyz check failed\n"},
		{name: "probe text of another shape", method: "GET", path: "/readyz", status: 503, header: plain, body: "draining", wantErr: "does not match"},
		{name: "ready probe saying failed", method: "GET", path: "/readyz", status: 200, header: plain,
			body: "[-]database failed: unreachable\nreadyz check failed\n", wantErr: "does not match"},
		{name: "probe as JSON", method: "GET", path: "/livez", status: 200, header: jsonType, body: `{"status":"ok"}`, wantErr: "not documented"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			_, err := spec.CheckResponse(tc.method, tc.path, tc.status, tc.header, []byte(tc.body), keys)
			switch {
			case tc.wantErr == "" && err != nil:
				t.Errorf("CheckResponse() = %v, want nil", err)
			case tc.wantErr != "" && (err == nil || !strings.Contains(err.Error(), tc.wantErr)):
				t.Errorf("CheckResponse() = %v, want an error mentioning %q", err, tc.wantErr)
			}
		})
	}
}

func TestCheckRequestAndWebhook(t *testing.T) {
	spec, err := openapitest.Load()
	if err != nil {
		t.Fatal(err)
	}
	keys, err := openapitest.NewKeys(key, iv)
	if err != nil {
		t.Fatal(err)
	}
	cbc, err := wirecrypt.New(key, iv)
	if err != nil {
		t.Fatal(err)
	}
	plain := http.Header{"Content-Type": {"text/plain"}}
	event := `{"id":"3f0c8a36-7d0e-4a53-8a4b-0a8a3f7e2b11","source":{"schema":"a","table":"b","id":"0b0e5c0e-5e0f-4c51-9a43-5d8f0a6d8f10"},"previous":` + history + `,"current":` + history + `}`
	signed := http.Header{"Content-Type": {"text/plain"}, "Webhook-Id": {"e1"}, "Webhook-Timestamp": {"1"}, "Webhook-Signature": {"v1,x"}}
	tests := []struct {
		name    string
		check   func() error
		wantErr string
	}{
		{name: "registration", check: func() error {
			body := `{"vendor":{"code":"toss.payments","store_id":"s","uid":"k"},"source":{"schema":"a","table":"b","id":"0b0e5c0e-5e0f-4c51-9a43-5d8f0a6d8f10"},"price":100,"password":"p","webhook_url":"http://x.example/h"}`
			return spec.CheckRequest("POST", "/payments/histories", plain, cbc.Encrypt([]byte(body)), keys)
		}},
		{name: "registration without price", check: func() error {
			body := `{"vendor":{"code":"toss.payments","store_id":"s","uid":"k"},"source":{"schema":"a","table":"b","id":"0b0e5c0e-5e0f-4c51-9a43-5d8f0a6d8f10"},"password":"p","webhook_url":"http://x.example/h"}`
			return spec.CheckRequest("POST", "/payments/histories", plain, cbc.Encrypt([]byte(body)), keys)
		}, wantErr: "price"},
		{name: "iamport form", check: func() error {
			return spec.CheckRequest("POST", "/payments/webhooks/iamport",
				http.Header{"Content-Type": {"application/x-www-form-urlencoded"}}, []byte("imp_uid=imp_1&status=paid"), nil)
		}},
		{name: "toss deposit callback", check: func() error {
			return spec.CheckRequest("POST", "/payments/webhooks/toss",
				http.Header{"Content-Type": {"application/json"}}, []byte(`{"secret":"s","orderId":"o","status":"DONE"}`), nil)
		}},
		{name: "webhook event", check: func() error {
			return spec.CheckWebhook("paymentEvent", signed, cbc.Encrypt([]byte(event)), keys)
		}},
		{name: "webhook event unsigned", check: func() error {
			return spec.CheckWebhook("paymentEvent", plain, cbc.Encrypt([]byte(event)), keys)
		}, wantErr: "webhook-id"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			err := tc.check()
			switch {
			case tc.wantErr == "" && err != nil:
				t.Errorf("got %v, want nil", err)
			case tc.wantErr != "" && (err == nil || !strings.Contains(err.Error(), tc.wantErr)):
				t.Errorf("got %v, want an error mentioning %q", err, tc.wantErr)
			}
		})
	}
}
