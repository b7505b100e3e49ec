package main

import (
	"encoding/json"
	"fmt"

	"github.com/spf13/cobra"

	"github.com/paymentctl/paymentctl/buildinfo"
)

// newVersionCmd returns `paymentctl version`.
func newVersionCmd(f *factory) *cobra.Command {
	var asJSON bool
	cmd := &cobra.Command{
		Use:     "version",
		Short:   "Print the version, commit, build date and Go version",
		Example: "  paymentctl version\n  paymentctl version --json",
		Args:    noArgs,
		RunE: func(_ *cobra.Command, _ []string) error {
			info := buildinfo.Get()
			if asJSON {
				enc := json.NewEncoder(f.IO.Out)
				enc.SetIndent("", "  ")
				return enc.Encode(info)
			}
			_, err := fmt.Fprintf(f.IO.Out, "paymentctl %s\ncommit: %s\nbuilt:  %s\ngo:     %s\n",
				info.Version, info.Commit, info.Date, info.GoVersion)
			return err
		},
	}
	cmd.Flags().BoolVar(&asJSON, "json", false, "print JSON")
	return cmd
}
