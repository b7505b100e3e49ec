package main

import (
	"fmt"
	"os"
	"slices"
	"strings"
	"testing"
)

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
