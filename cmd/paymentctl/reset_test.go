package main

import (
	"bytes"
	"context"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/paymentctl/paymentctl/config"
)

func TestResetFlags(t *testing.T) {
	tests := []struct {
		name    string
		args    []string
		env     map[string]string
		tty     bool          // standard input is a terminal
		answer  string        // typed on it
		want    *resetOptions // nil: runF must not be called
		wantErr string
	}{
		{
			name: "defaults",
			args: []string{"local"},
			want: &resetOptions{Mode: config.ModeLocal},
		},
		{
			name: "every step flag",
			args: []string{"dev", "--no-pull", "--no-build", "--no-start", "--pid-file", "/run/p.pid", "--yes"},
			env:  map[string]string{"PAYMENT_MODE": "dev"},
			want: &resetOptions{Mode: config.ModeDev, NoPull: true, NoBuild: true, NoStart: true, PIDFile: "/run/p.pid", Yes: true},
		},
		{
			name: "local does not ask",
			args: []string{"local"},
			tty:  true,
			want: &resetOptions{Mode: config.ModeLocal},
		},
		{
			name:   "dev confirmed on the terminal",
			args:   []string{"dev"},
			env:    map[string]string{"PAYMENT_MODE": "dev"},
			tty:    true,
			answer: "y\n",
			want:   &resetOptions{Mode: config.ModeDev},
		},
		{
			name:    "dev declined on the terminal",
			args:    []string{"dev"},
			env:     map[string]string{"PAYMENT_MODE": "dev"},
			tty:     true,
			answer:  "\n",
			wantErr: "reset dev: not confirmed; nothing was changed",
		},
		{
			name:    "dev, terminal closed",
			args:    []string{"dev"},
			env:     map[string]string{"PAYMENT_MODE": "dev"},
			tty:     true,
			wantErr: "reset dev: not confirmed",
		},
		{
			// Refused before the configuration is read.
			name:    "dev without a terminal or --yes",
			args:    []string{"dev"},
			env:     map[string]string{"PAYMENT_API_PORT": "not-a-port"},
			wantErr: "reset dev drops every table of the dev database: pass --yes to confirm",
		},
		{
			// Refused before the configuration is even read.
			name:    "real",
			args:    []string{"real"},
			env:     map[string]string{"PAYMENT_API_PORT": "not-a-port"},
			wantErr: "reset refuses real mode",
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var got *resetOptions
			errOut := &bytes.Buffer{}
			f := &factory{
				IO:        &iostreams{In: strings.NewReader(tt.answer), InTTY: tt.tty, Out: &bytes.Buffer{}, ErrOut: errOut},
				LookupEnv: func(k string) (string, bool) { v, ok := tt.env[k]; return v, ok },
			}
			cmd := newResetCmd(f, func(_ context.Context, o *resetOptions) error { got = o; return nil })
			cmd.SetArgs(tt.args)
			cmd.SetOut(&bytes.Buffer{})
			cmd.SetErr(&bytes.Buffer{})
			err := cmd.Execute()
			if tt.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tt.wantErr) || got != nil {
					t.Fatalf("err = %v, ran = %v; want %q before running", err, got != nil, tt.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if asked := strings.Contains(errOut.String(), "Continue? [y/N]"); asked != (tt.answer != "") {
				t.Errorf("asked = %v, want %v; stderr %q", asked, tt.answer != "", errOut.String())
			}
			if got.Config == nil || got.Config.Mode != tt.want.Mode {
				t.Fatalf("configuration %+v", got.Config)
			}
			got.IO, got.Config = nil, nil
			if diff := cmp.Diff(tt.want, got); diff != "" {
				t.Errorf("options (-want +got):\n%s", diff)
			}
		})
	}
}

func TestResetHelpListsTheSteps(t *testing.T) {
	cmd := newResetCmd(&factory{IO: &iostreams{}}, nil)
	for _, step := range []string{"1. pull", "2. build", "3. stop", "4. schema", "5. seed", "6. start", `"sample-password"`, "real is always refused"} {
		if !strings.Contains(cmd.Long, step) {
			t.Errorf("reset --help does not mention %q", step)
		}
	}
}

func TestDatabaseLabel(t *testing.T) {
	tests := []struct{ dsn, want string }{
		{"postgres://samchon:secret-pw@db.internal:5432/payments?search_path=payments", `database "payments" on db.internal:5432`},
		{"sqlite:paymentctl.db", "the database sqlite:paymentctl.db"},
		{"postgres://%zz:secret-pw@db.internal/payments", "the database (its DSN, which may hold a password, does not parse)"},
	}
	for _, tt := range tests {
		if got := databaseLabel(tt.dsn); got != tt.want {
			t.Errorf("databaseLabel(%q) = %q, want %q", tt.dsn, got, tt.want)
		}
	}
}
