package main

import (
	"encoding/json"
	"io"
	"os"
	"time"

	"github.com/mattn/go-isatty"
	"github.com/spf13/cobra"

	"github.com/paymentctl/paymentctl/config"
)

// iostreams is where every command reads and writes; commands never touch
// os.Stdout or os.Stderr directly.
type iostreams struct {
	In     io.Reader
	Out    io.Writer
	ErrOut io.Writer
	// InTTY reports whether In is a terminal, where a command may ask a
	// question (reset dev's confirmation).
	InTTY bool
	// ErrTTY reports whether ErrOut is a terminal (logs are then plain text
	// meant for people).
	ErrTTY bool
	// OutTTY reports whether Out is a terminal (monitor --watch then
	// redraws the screen).
	OutTTY bool
}

// factory carries the process's dependencies to the commands. Each field
// is set once in Main (or by a test) and read by the commands that need it.
type factory struct {
	IO *iostreams
	// LookupEnv reads the process environment.
	LookupEnv func(key string) (string, bool)
	// Now is the clock.
	Now func() time.Time
}

// systemFactory returns the factory of a real process.
func systemFactory() *factory {
	return &factory{
		IO: &iostreams{
			In: os.Stdin, Out: os.Stdout, ErrOut: os.Stderr,
			InTTY:  isatty.IsTerminal(os.Stdin.Fd()) || isatty.IsCygwinTerminal(os.Stdin.Fd()),
			ErrTTY: isatty.IsTerminal(os.Stderr.Fd()) || isatty.IsCygwinTerminal(os.Stderr.Fd()),
			OutTTY: isatty.IsTerminal(os.Stdout.Fd()) || isatty.IsCygwinTerminal(os.Stdout.Fd()),
		},
		LookupEnv: os.LookupEnv,
		Now:       time.Now,
	}
}

// loadConfig builds the configuration for cmd: its --config file, the
// .env file of the working directory, the environment, and the flags
// explicitly set on cmd (persistent ones included).
func (f *factory) loadConfig(cmd *cobra.Command) (*config.Config, error) {
	file, _ := cmd.Flags().GetString("config")
	if file == "" {
		file, _ = f.LookupEnv("PAYMENT_CONFIG")
	}
	return config.Load(config.LoadOptions{
		File:      file,
		DotEnv:    ".env",
		LookupEnv: f.LookupEnv,
		Flags:     cmd.Flags(),
	})
}

// writeJSON writes v to w as the commands' --json output: indented by two
// spaces, one value, a newline after it.
func writeJSON(w io.Writer, v any) error {
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	return enc.Encode(v)
}
