package server

import "testing"

func TestRedactURLs(t *testing.T) {
	tests := []struct{ in, want string }{
		{"", ""},
		{"deliver webhook x: service answered 500", "deliver webhook x: service answered 500"},
		{`deliver webhook x: Post "https://svc.example:8443/hooks/pay?token=s3cret": dial tcp 10.0.0.1:8443: connect: connection refused`,
			`deliver webhook x: Post "https://svc.example:8443": dial tcp 10.0.0.1:8443: connect: connection refused`},
		{"two: http://a/b?c=d and https://user:pw@e.example/f.", "two: http://a and https://e.example"},
		{"not a url: ftp:/x", "not a url: ftp:/x"},
	}
	for _, tt := range tests {
		if got := redactURLs(tt.in); got != tt.want {
			t.Errorf("redactURLs(%q) = %q, want %q", tt.in, got, tt.want)
		}
	}
}

func TestURLHost(t *testing.T) {
	tests := []struct{ in, want string }{
		{"https://shop.internal/payments/events?token=x", "shop.internal"},
		{"http://127.0.0.1:9/hook", "127.0.0.1:9"},
		{"https://user:pw@[::1]:443/x", "[::1]:443"},
		{"", ""},
		{"::", ""},
	}
	for _, tt := range tests {
		if got := urlHost(tt.in); got != tt.want {
			t.Errorf("urlHost(%q) = %q, want %q", tt.in, got, tt.want)
		}
	}
}
