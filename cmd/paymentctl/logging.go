package main

import (
	"io"
	"log/slog"
	"strings"
)

// newLogger returns the process logger: human-readable text, or JSON
// lines for log collectors. Attributes whose names say they hold a secret
// are masked whatever their type, as a second line of defence behind
// config.Secret's own masking.
func newLogger(w io.Writer, format, level string) *slog.Logger {
	var lvl slog.Level
	if err := lvl.UnmarshalText([]byte(level)); err != nil {
		lvl = slog.LevelInfo
	}
	opts := &slog.HandlerOptions{Level: lvl, ReplaceAttr: maskSecretAttr}
	if format == "json" {
		return slog.New(slog.NewJSONHandler(w, opts))
	}
	return slog.New(slog.NewTextHandler(w, opts))
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
