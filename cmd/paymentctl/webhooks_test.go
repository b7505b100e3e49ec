package main

import (
	"bytes"
	"context"
	"errors"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/spf13/cobra"

	"github.com/paymentctl/paymentctl/config"
)

// TestNewWebhooksCmd parses command lines into options through the runF
// seams.
func TestNewWebhooksCmd(t *testing.T) {
	tests := []struct {
		name      string
		args      []string
		want      *webhooksOptions // nil: a usage error
		wantRetry bool
	}{
		{"list", []string{"local"}, &webhooksOptions{Limit: 100}, false},
		{"list as JSON", []string{"local", "--json", "--limit", "5"}, &webhooksOptions{Limit: 5, JSON: true}, false},
		{"retry", []string{"retry", "local", "3e2d1c0b-9a8f-4e7d-b6c5-a4b3c2d1e0f9"}, &webhooksOptions{Limit: 0, EventID: "3e2d1c0b-9a8f-4e7d-b6c5-a4b3c2d1e0f9", Wait: 10 * time.Second}, true},
		{"retry without waiting", []string{"retry", "local", "3E2D1C0B-9A8F-4E7D-B6C5-A4B3C2D1E0F9", "--wait", "0"}, &webhooksOptions{EventID: "3e2d1c0b-9a8f-4e7d-b6c5-a4b3c2d1e0f9"}, true},
		{"retry of a non-id", []string{"retry", "local", "../../etc"}, nil, true},
		{"retry waiting too long", []string{"retry", "local", "3e2d1c0b-9a8f-4e7d-b6c5-a4b3c2d1e0f9", "--wait", "31s"}, nil, true},
		{"no mode", nil, nil, false},
		{"unknown mode", []string{"staging"}, nil, false},
		{"limit zero", []string{"local", "--limit", "0"}, nil, false},
		{"limit too large", []string{"local", "--limit", "10001"}, nil, false},
		{"retry without event", []string{"retry", "local"}, nil, true},
		{"retry with a bad mode", []string{"retry", "staging", "x"}, nil, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var got *webhooksOptions
			var retried bool
			f := &factory{IO: &iostreams{In: &bytes.Buffer{}, Out: &bytes.Buffer{}, ErrOut: &bytes.Buffer{}},
				LookupEnv: func(string) (string, bool) { return "", false }, Now: time.Now}
			cmd := newWebhooksCmd(f,
				func(_ context.Context, o *webhooksOptions) error { got = o; return nil },
				func(_ context.Context, o *webhooksOptions) error { got, retried = o, true; return nil })
			cmd.SetArgs(tt.args)
			cmd.SetOut(&bytes.Buffer{})
			cmd.SetErr(&bytes.Buffer{})
			cmd.SilenceErrors, cmd.SilenceUsage = true, true
			cmd.SetFlagErrorFunc(func(_ *cobra.Command, err error) error { return &usageError{err} })
			err := cmd.Execute()
			if tt.want == nil {
				var uerr *usageError
				if !errors.As(err, &uerr) {
					t.Fatalf("webhooks %q: %v, want a usage error", tt.args, err)
				}
				return
			}
			if err != nil {
				t.Fatalf("webhooks %q: %v", tt.args, err)
			}
			if retried != tt.wantRetry || got.Config == nil || got.Config.Mode != config.ModeLocal {
				t.Fatalf("webhooks %q ran retry %v with %+v", tt.args, retried, got)
			}
			opts := *got
			opts.IO, opts.Config = nil, nil
			if diff := cmp.Diff(*tt.want, opts, cmp.AllowUnexported(webhooksOptions{})); diff != "" {
				t.Errorf("options (-want +got):\n%s", diff)
			}
		})
	}
}
