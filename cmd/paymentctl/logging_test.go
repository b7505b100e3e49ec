package main

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"log/slog"
	"strings"
	"testing"
	"time"

	"github.com/paymentctl/paymentctl/config"
	"github.com/paymentctl/paymentctl/server/requestid"
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

func TestLoggerWritesDurationsAsStrings(t *testing.T) {
	for _, format := range []string{"text", "json"} {
		t.Run(format, func(t *testing.T) {
			var buf bytes.Buffer
			newLogger(&buf, format, "info").Info("request", "duration", 1500*time.Millisecond, slog.Group("g", "elapsed", 2*time.Second))
			out := buf.String()
			for _, want := range []string{"1.5s", "2s"} {
				if !strings.Contains(out, want) {
					t.Errorf("log line lacks %s: %s", want, out)
				}
			}
			if strings.Contains(out, "1500000000") {
				t.Errorf("duration written in nanoseconds: %s", out)
			}
		})
	}
}

func TestLoggerHoldsBackRepeatedErrors(t *testing.T) {
	var buf bytes.Buffer
	log := newLogger(&buf, "json", "info")
	for i := range 3 {
		log.ErrorContext(requestid.NewContext(context.Background(), fmt.Sprint("req-", i)), "request failed", "err", "database down")
	}
	if n := strings.Count(buf.String(), "request failed"); n != 1 {
		t.Errorf("a repeated error was written %d times, want once:\n%s", n, buf.String())
	}
}
