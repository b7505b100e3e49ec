package server

import (
	"reflect"
	"testing"
	"unicode/utf8"

	"github.com/paymentctl/paymentctl/sdk"
)

// decodeBodies are bodies whose answers decodeJSON must give exactly as
// decodeJSONSlow (the map of keys, then the DTO) does.
var decodeBodies = []string{
	`{"password":"pw"}`,
	` { "password" : "pw" } `,
	`{}`,
	`{"password":null}`,
	`{"password": null }`,
	`{"password":"pw","password":null}`,
	`{"password":null,"password":"pw"}`,
	`{"Password":"pw"}`,
	`{"pass\u0077ord":"pw"}`,
	`{"password":"p\"w\\"}`,
	`{"password":5}`,
	`{"password":1e400}`,
	`{"password":true}`,
	`{"password":{"a":[1,"}",{"b":null}]}}`,
	`{"password":["x"],"other":{}}`,
	`{"other":{"password":"nested"}}`,
	`{"other":"password","x":[]}`,
	`{"schema":"s","table":"t","id":"0b6c7d9e-8f10-4a2b-9c3d-4e5f60718293","password":"pw"}`,
	`{"schema":"s","table":null,"id":3,"password":"pw"}`,
	`{"schema":"s","extra":-1.5e3,"table":"t","id":"x","password":"pw"}`,
	`{"source":{"schema":"s"},"price":"12","password":"pw"}`,
	`{"vendor":{"code":"iamport"},"price":-1,"password":"pw","webhook_url":"http://a"}`,
	`[]`,
	`["password"]`,
	`"password"`,
	`null`,
	` null `,
	`5`,
	``,
	`{`,
	`{"password":"pw",}`,
	`{"password":"pw"} x`,
	`{"password" "pw"}`,
	`{"password":"pw"}{}`,
	`{"password":tru}`,
	"{\"password\":\"pw\"}\n",
	"{\t\"password\"\r\n:\"pw\"}",
}

// TestDecodeJSON checks that decoding the body once answers every body
// as decoding it twice did: the same refusal, byte for byte, or the same
// value.
func TestDecodeJSON(t *testing.T) {
	for _, body := range decodeBodies {
		t.Run(body, func(t *testing.T) {
			checkDecodeJSON(t, body)
		})
	}
}

// FuzzDecodeJSON is TestDecodeJSON over any body.
func FuzzDecodeJSON(f *testing.F) {
	for _, body := range decodeBodies {
		f.Add(body)
	}
	f.Fuzz(func(t *testing.T, body string) {
		if !utf8.ValidString(body) {
			return // decode refuses it before
		}
		checkDecodeJSON(t, body)
	})
}

// checkDecodeJSON compares decodeJSON with decodeJSONSlow on body, for
// the DTOs and required keys of the password, accessor and registration
// routes.
func checkDecodeJSON(t *testing.T, body string) {
	t.Helper()
	cases := []struct {
		name     string
		new      func() any
		required []string
	}{
		{"password", func() any { return new(sdk.Password) }, []string{"password"}},
		{"accessor", func() any { return new(sdk.Accessor) }, []string{"schema", "table", "id", "password"}},
		{"history", func() any { return new(sdk.HistoryCreate) }, []string{"vendor", "source", "price", "password", "webhook_url"}},
		{"none", func() any { return new(sdk.Password) }, nil},
	}
	for _, c := range cases {
		got, want := c.new(), c.new()
		gotErr := decodeJSON([]byte(body), got, c.required)
		wantErr := decodeJSONSlow([]byte(body), want, c.required)
		if errText(gotErr) != errText(wantErr) {
			t.Errorf("%s: decodeJSON(%q) = %v, want %v", c.name, body, gotErr, wantErr)
		}
		if wantErr == nil && !reflect.DeepEqual(got, want) {
			t.Errorf("%s: decodeJSON(%q) decoded %+v, want %+v", c.name, body, got, want)
		}
	}
}

// errText is err's text, with its status and cause, or "" for nil.
func errText(err error) string {
	if err == nil {
		return ""
	}
	return err.Error()
}

// BenchmarkDecodeJSON compares decoding a read's body once (decodeJSON)
// with decoding it twice (decodeJSONSlow, the way before).
func BenchmarkDecodeJSON(b *testing.B) {
	body := []byte(`{"password":"correct horse battery staple"}`)
	required := []string{"password"}
	for _, c := range []struct {
		name   string
		decode func([]byte, any, []string) error
	}{{"once", decodeJSON}, {"twice", decodeJSONSlow}} {
		b.Run(c.name, func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				var in sdk.Password
				if err := c.decode(body, &in, required); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}
