package main

import (
	"bytes"
	"encoding/json"
	"strings"
	"testing"

	"github.com/paymentctl/paymentctl/config"
)

func TestLoggerMasksSecrets(t *testing.T) {
	tests := []struct {
		name   string
		format string
	}{
		{"text", "text"},
		{"json", "json"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var buf bytes.Buffer
			log := newLogger(&buf, tt.format, "debug")
			log.Info("loaded",
				"password", "pw-plain",
				"toss_secret", "sk-plain",
				"access_token", "tok-plain",
				"Authorization", "Basic abc-plain",
				"encryption_key", "key-plain",
				"cfg_secret", config.Secret("typed-plain"),
				"port", 37821,
			)
			out := buf.String()
			for _, leak := range []string{"pw-plain", "sk-plain", "tok-plain", "abc-plain", "key-plain", "typed-plain"} {
				if strings.Contains(out, leak) {
					t.Errorf("log line leaks %q: %s", leak, out)
				}
			}
			if !strings.Contains(out, "37821") {
				t.Errorf("log line lost a plain attribute: %s", out)
			}
			if tt.format == "json" && !json.Valid(bytes.TrimSpace(buf.Bytes())) {
				t.Errorf("not JSON: %s", out)
			}
		})
	}
}

func TestLoggerLevel(t *testing.T) {
	var buf bytes.Buffer
	log := newLogger(&buf, "text", "warn")
	log.Info("hidden")
	log.Warn("shown")
	if strings.Contains(buf.String(), "hidden") || !strings.Contains(buf.String(), "shown") {
		t.Errorf("level filter wrong: %s", buf.String())
	}
}
