package main

import (
	"fmt"
	"strings"

	"github.com/spf13/cobra"

	"github.com/paymentctl/paymentctl/config"
)

// configFlagsAnnotation marks a command that reads the configuration
// (f.loadConfig): newRootCmd gives it a flag for every configuration key.
const configFlagsAnnotation = "paymentctl/config-flags"

// loadsConfig is the Annotations of a command that reads the configuration.
func loadsConfig() map[string]string {
	return map[string]string{configFlagsAnnotation: "true"}
}

// addConfigFlags defines on cmd a flag for every configuration key that
// neither cmd nor a parent defines already: config.FlagName(key), a string
// that config.Load reads when it is set and checks like any other value.
// They are hidden from cmd's --help, which lists the flags the command is
// about; `paymentctl config --help` lists them all (configFlagsHelp).
func addConfigFlags(cmd *cobra.Command) {
	// cobra builds (and sorts) the inherited set anew on every call: once
	// per command, not once per key, or building the command tree costs
	// `serve` about 10 ms of CPU before it starts.
	flags, inherited := cmd.Flags(), cmd.InheritedFlags()
	for _, s := range config.Settings() {
		name := config.FlagName(s.Key)
		if flags.Lookup(name) != nil || inherited.Lookup(name) != nil {
			continue
		}
		flags.String(name, "", fmt.Sprintf("%s (%s)", s.Key, s.Env))
		_ = flags.MarkHidden(name) // the flag was just defined
	}
}

// configFlagsHelp lists the flag and environment variable of every
// configuration key, for `paymentctl config --help`.
func configFlagsHelp() string {
	var b strings.Builder
	width := 0
	for _, s := range config.Settings() {
		width = max(width, len(config.FlagName(s.Key)))
	}
	for _, s := range config.Settings() {
		fmt.Fprintf(&b, "  --%-*s  %s\n", width, config.FlagName(s.Key), s.Env)
	}
	return b.String()
}
