package servertest_test

import (
	"context"
	"os"
	"os/exec"
	"strings"
	"testing"

	"github.com/gin-gonic/gin"

	"github.com/paymentctl/paymentctl/sdk"
	"github.com/paymentctl/paymentctl/server/servertest"
)

// childEnv makes the test binary run TestChild's body: a server started
// and used, in a process of its own whose output the parent reads.
const childEnv = "SERVERTEST_CHILD"

// TestChild is the child process's test; it does nothing otherwise.
func TestChild(t *testing.T) {
	if os.Getenv(childEnv) == "" {
		t.Skip("run by TestOutput")
	}
	srv := servertest.Start(t, map[string]string{"PAYMENT_LOG_LEVEL": "debug"})
	c, err := sdk.New(sdk.Options{BaseURL: srv.URL, Key: srv.Config.Connection.Encryption.Key.Reveal(), IV: srv.Config.Connection.Encryption.IV.Reveal()})
	if err != nil {
		t.Fatal(err)
	}
	if err := c.Health(context.Background()); err != nil {
		t.Fatal(err)
	}
	// A refused call makes the server log a line.
	if _, err := c.History(context.Background(), "9b1c8a64-3f0e-4a57-9c1d-2f5e8b7a6c10", "pw"); err == nil {
		t.Fatal("an unknown history was found")
	}
}

// TestOutput runs TestChild in a fresh process, as a service's test
// binary would: nothing but go test's own verdict unless verbose, and the
// server's logs through t.Log when verbose. gin's banner never.
func TestOutput(t *testing.T) {
	if os.Getenv(childEnv) != "" {
		t.Skip("in the child")
	}
	tests := []struct {
		name    string
		verbose bool
	}{
		{"quiet", false},
		{"verbose", true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			args := []string{"-test.run=^TestChild$", "-test.count=1"}
			if tt.verbose {
				args = append(args, "-test.v")
			}
			cmd := exec.Command(os.Args[0], args...)
			cmd.Env = append(os.Environ(), childEnv+"=1", gin.EnvGinMode+"=")
			out, err := cmd.CombinedOutput()
			if err != nil {
				t.Fatalf("child: %v\n%s", err, out)
			}
			text := string(out)
			if strings.Contains(text, "GIN") {
				t.Errorf("gin printed:\n%s", text)
			}
			if !tt.verbose && strings.TrimSpace(text) != "PASS" {
				t.Errorf("a quiet test printed more than PASS:\n%s", text)
			}
			if tt.verbose && !strings.Contains(text, "paymentctl: ") {
				t.Errorf("a verbose test shows no server log:\n%s", text)
			}
		})
	}
}

// TestStartKeepsTheCallersGinMode: a mode the caller set survives Start.
func TestStartKeepsTheCallersGinMode(t *testing.T) {
	if os.Getenv(childEnv) != "" {
		t.Skip("in the child")
	}
	t.Setenv(gin.EnvGinMode, "")
	defer gin.SetMode(gin.Mode())
	for _, mode := range []string{gin.ReleaseMode, gin.TestMode} {
		gin.SetMode(mode)
		servertest.Start(t, nil)
		if got := gin.Mode(); got != mode {
			t.Errorf("gin mode after Start = %q, want the caller's %q", got, mode)
		}
	}
	gin.SetMode(gin.DebugMode)
	servertest.Start(t, nil)
	if got := gin.Mode(); got != gin.TestMode {
		t.Errorf("gin mode after Start from gin's default = %q, want %q", got, gin.TestMode)
	}
}
