package main

import (
	"io"
	"log/slog"
	"strings"

	"github.com/paymentctl/paymentctl/internal/logdedup"
	"github.com/paymentctl/paymentctl/server/requestid"
)

// newLogger returns the process logger: human-readable text, or JSON
// lines for log collectors. Attributes whose names say they hold a secret
// are masked whatever their type, as a second line of defence behind
// config.Secret's own masking; durations are written as Go durations
// ("1.5s", not JSON's integer nanoseconds). A warning or error repeated
// with the same message and attributes (request IDs aside) is written at
// most once every 10 seconds, the next copy saying how many were held
// back (logdedup).
func newLogger(w io.Writer, format, level string) *slog.Logger {
	var lvl slog.Level
	if err := lvl.UnmarshalText([]byte(level)); err != nil {
		lvl = slog.LevelInfo
	}
	opts := &slog.HandlerOptions{Level: lvl, ReplaceAttr: replaceAttr}
	var h slog.Handler = slog.NewTextHandler(w, opts)
	if format == "json" {
		h = slog.NewJSONHandler(w, opts)
	}
	return slog.New(logdedup.New(h, logdedup.Options{Ignore: []string{requestid.Key}}))
}

// replaceAttr masks secrets and writes durations as strings.
func replaceAttr(groups []string, a slog.Attr) slog.Attr {
	a = maskSecretAttr(groups, a)
	if a.Value.Kind() == slog.KindDuration {
		return slog.String(a.Key, a.Value.Duration().String())
	}
	return a
}

// maskSecretAttr replaces the value of an attribute whose key says it is a
// secret (password, secret, token, authorization, key, iv).
func maskSecretAttr(_ []string, a slog.Attr) slog.Attr {
	if !secretKey(a.Key) {
		return a
	}
	if a.Value.Kind() == slog.KindString && a.Value.String() == "" {
		return a
	}
	return slog.String(a.Key, "******")
}

// secretKey reports whether an attribute key names a secret.
func secretKey(key string) bool {
	key = strings.ToLower(key)
	switch key {
	case "key", "iv":
		return true
	}
	for _, w := range []string{"password", "secret", "token", "authorization", "_key", "_iv"} {
		if strings.Contains(key, w) {
			return true
		}
	}
	return false
}
