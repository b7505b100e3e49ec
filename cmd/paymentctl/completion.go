package main

import (
	"fmt"
	"strings"

	"github.com/spf13/cobra"

	"github.com/paymentctl/paymentctl/config"
)

// finishHelpAndCompletion gives cobra's own `help` and `completion`
// commands what ours have: an example each, and usage errors (exit 2) for
// stray arguments and unknown topics.
func finishHelpAndCompletion(root *cobra.Command) {
	examples := map[string]string{
		"help": `  paymentctl help serve
  paymentctl help fake pay card`,
		"completion": `  # bash, in this shell
  source <(paymentctl completion bash)

  # zsh, for every new shell
  paymentctl completion zsh > "${fpath[1]}/_paymentctl"`,
		"bash": `  source <(paymentctl completion bash)
  paymentctl completion bash > /etc/bash_completion.d/paymentctl`,
		"zsh": `  source <(paymentctl completion zsh)
  paymentctl completion zsh > "${fpath[1]}/_paymentctl"`,
		"fish": `  paymentctl completion fish | source
  paymentctl completion fish > ~/.config/fish/completions/paymentctl.fish`,
		"powershell": `  paymentctl completion powershell | Out-String | Invoke-Expression`,
	}
	for _, cmd := range root.Commands() {
		switch cmd.Name() {
		case "help":
			cmd.Example = examples["help"]
			cmd.RunE = helpUnknownTopic(cmd.Run)
			cmd.Run = nil
		case "completion":
			cmd.Example = examples["completion"]
			cmd.Long += `
Completion suggests commands, flags, the modes of <mode> arguments and the
values of --mode, --log-format, --log-level, --pg and --only.
`
			for _, shell := range cmd.Commands() {
				shell.Example = examples[shell.Name()]
				shell.Args = noArgs
			}
		}
	}
}

// helpUnknownTopic wraps the Run of cobra's help command: a topic that is
// no command is a usage error (cobra would print the root's help, exit 0).
func helpUnknownTopic(run func(*cobra.Command, []string)) func(*cobra.Command, []string) error {
	return func(cmd *cobra.Command, args []string) error {
		if _, rest, err := cmd.Root().Find(args); err != nil || len(rest) > 0 {
			return &usageError{fmt.Errorf("unknown help topic %q; 'paymentctl help' lists the commands", strings.Join(args, " "))}
		}
		run(cmd, args)
		return nil
	}
}

// registerCompletions tells shell completion the values of arguments and
// flags that have a fixed set: modes, PGs, log formats and levels, and
// configuration files.
func registerCompletions(root *cobra.Command) {
	modes := make([]string, 0, len(config.Modes()))
	for _, m := range config.Modes() {
		modes = append(modes, string(m))
	}
	fixed := map[string][]string{
		config.FlagName("mode"):       modes,
		config.FlagName("log.format"): {"text", "json"},
		config.FlagName("log.level"):  {"debug", "info", "warn", "error"},
		"pg":                          {pgIamport, pgToss, pgPortOne},
		"only":                        {pgIamport, pgToss, pgPortOne},
	}
	// Errors only say that a flag does not exist or already has a
	// function; neither happens for the flags named here.
	_ = root.MarkPersistentFlagFilename("config", "yaml", "yml", "json", "toml")
	forEachCommand(root, func(cmd *cobra.Command) {
		if cmd.Annotations[modeArgAnnotation] != "" {
			cmd.ValidArgsFunction = modeCompletion(cmd.Annotations[modeArgAnnotation] == modeArgNotReal)
		}
		// Built once per command: cobra makes a new, sorted set each call.
		fs := cmd.LocalNonPersistentFlags()
		if cmd == root {
			fs = cmd.PersistentFlags()
		}
		for name, values := range fixed {
			if fs.Lookup(name) == nil {
				continue
			}
			_ = cmd.RegisterFlagCompletionFunc(name, cobra.FixedCompletions(values, cobra.ShellCompDirectiveNoFileComp))
		}
	})
}

// The annotation of commands that take a <mode> argument (modeArg); its
// value says which modes completion suggests.
const (
	modeArgAnnotation = "paymentctl/mode-arg"
	modeArgAny        = "any"
	modeArgNotReal    = "not-real" // reset refuses real
)

// modeCompletion completes the one <mode> argument.
func modeCompletion(notReal bool) cobra.CompletionFunc {
	return func(_ *cobra.Command, args []string, _ string) ([]cobra.Completion, cobra.ShellCompDirective) {
		if len(args) > 0 {
			return nil, cobra.ShellCompDirectiveNoFileComp
		}
		var out []cobra.Completion
		for _, m := range config.Modes() {
			if notReal && m == config.ModeReal {
				continue
			}
			out = append(out, string(m))
		}
		return out, cobra.ShellCompDirectiveNoFileComp
	}
}
