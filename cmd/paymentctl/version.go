package main

import (
	"fmt"

	"github.com/spf13/cobra"

	"github.com/paymentctl/paymentctl/buildinfo"
)

// newVersionCmd returns `paymentctl version`.
func newVersionCmd(f *factory) *cobra.Command {
	var asJSON bool
	cmd := &cobra.Command{
		Use:   "version",
		Short: "Print the version, commit, build date and Go version",
		Long: `Print the version, commit, build date and Go version of this binary. Release
and updater builds stamp them with -ldflags; a plain 'go build' in a git
checkout falls back to the commit and commit time Go records (with
"uncommitted changes" when the tree had some), unless built with
-buildvcs=false; what is not known prints as "unknown".`,
		Example: "  paymentctl version\n  paymentctl version --json",
		Args:    noArgs,
		RunE: func(_ *cobra.Command, _ []string) error {
			info := buildinfo.Get()
			if asJSON {
				return writeJSON(f.IO.Out, info)
			}
			commit := info.Commit
			if info.Modified {
				commit += " (with uncommitted changes)"
			}
			_, err := fmt.Fprintf(f.IO.Out, "paymentctl %s\ncommit: %s\nbuilt:  %s\ngo:     %s\n",
				info.Version, commit, info.Date, info.GoVersion)
			return err
		},
	}
	cmd.Flags().BoolVar(&asJSON, "json", false, "print JSON")
	return cmd
}
