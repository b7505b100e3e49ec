package main

import (
	"fmt"
	"os"
	"slices"
	"strings"
	"testing"

	"github.com/spf13/cobra"

	"github.com/paymentctl/paymentctl/config"
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

// TestConfigFlags checks that every command that reads the configuration
// takes a flag for every key, and that no other command does.
func TestConfigFlags(t *testing.T) {
	f, _ := testFakeFactory(nil)
	root := newRootCmd(f)
	var loading []string
	forEachCommand(root, func(cmd *cobra.Command) {
		if cmd.Annotations[configFlagsAnnotation] == "" {
			if cmd.Flags().Lookup(config.FlagName("api.port")) != nil {
				t.Errorf("%q does not read the configuration but has --api-port", cmd.CommandPath())
			}
			return
		}
		loading = append(loading, cmd.CommandPath())
		for _, s := range config.Settings() {
			name := config.FlagName(s.Key)
			if cmd.Flags().Lookup(name) == nil && cmd.InheritedFlags().Lookup(name) == nil {
				t.Errorf("%q has no --%s for %s", cmd.CommandPath(), name, s.Key)
			}
		}
	})
	want := []string{
		"paymentctl config print", "paymentctl fake", "paymentctl fake billing-key", "paymentctl fake cancel",
		"paymentctl fake deposit", "paymentctl fake pay card", "paymentctl fake pay vbank", "paymentctl monitor",
		"paymentctl reconcile", "paymentctl reset", "paymentctl schema", "paymentctl serve", "paymentctl update",
	}
	slices.Sort(loading)
	if !slices.Equal(loading, want) {
		t.Errorf("commands with configuration flags:\n%q\nwant\n%q", loading, want)
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
