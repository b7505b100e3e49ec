package main

import (
	"fmt"
	"os"
	"slices"
	"strings"
	"testing"

	"github.com/spf13/cobra"
)

// TestEveryCommandHasAnExample walks the whole command tree, cobra's help
// and completion commands included: every command's --help shows an
// example of its use.
func TestEveryCommandHasAnExample(t *testing.T) {
	f, _ := testFakeFactory(nil)
	root := newRootCmd(f)
	n := 0
	forEachCommand(root, func(cmd *cobra.Command) {
		if cmd.Hidden {
			return
		}
		n++
		if strings.TrimSpace(cmd.Example) == "" {
			t.Errorf("%q has no Example", cmd.CommandPath())
		} else if !strings.Contains(cmd.Example, "paymentctl") {
			t.Errorf("%q: its Example does not run paymentctl:\n%s", cmd.CommandPath(), cmd.Example)
		}
	})
	if n < 20 {
		t.Errorf("walked %d commands; the tree has more", n)
	}
}

// TestSystemdUnitStopsOnConfigErrors: the shipped unit must not restart a
// server that exited because its configuration is invalid.
func TestSystemdUnitStopsOnConfigErrors(t *testing.T) {
	data, err := os.ReadFile("../../deploy/systemd/paymentctl.service")
	if err != nil {
		t.Fatal(err)
	}
	want := fmt.Sprintf("RestartPreventExitStatus=%d", exitConfig)
	if !slices.Contains(strings.Split(string(data), "\n"), want) {
		t.Errorf("deploy/systemd/paymentctl.service lacks the line %s", want)
	}
}
