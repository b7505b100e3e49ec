package main

import (
	"github.com/spf13/cobra"
)

// finishHelpAndCompletion gives cobra's own `help` and `completion`
// commands what ours have: an example each, and usage errors (exit 2) for
// stray arguments.
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
