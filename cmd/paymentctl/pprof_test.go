package main

import (
	"errors"
	"testing"
)

func TestCheckPprofAddr(t *testing.T) {
	tests := []struct {
		addr string
		ok   bool
	}{
		{"127.0.0.1:6060", true},
		{"127.0.0.2:6060", true},
		{"[::1]:6060", true},
		{"localhost:6060", true},
		{"localhost:0", true},
		{"0.0.0.0:6060", false},
		{"[::]:6060", false},
		{":6060", false},
		{"10.0.0.1:6060", false},
		{"example.com:6060", false},
		{"6060", false},
		{"127.0.0.1:", false},
	}
	for _, tt := range tests {
		t.Run(tt.addr, func(t *testing.T) {
			err := checkPprofAddr(tt.addr)
			if (err == nil) != tt.ok {
				t.Errorf("checkPprofAddr(%q) = %v, want ok %v", tt.addr, err, tt.ok)
			}
			var uerr *usageError
			if err != nil && !errors.As(err, &uerr) {
				t.Errorf("checkPprofAddr(%q) = %v, want a usage error (exit 2)", tt.addr, err)
			}
		})
	}
}
