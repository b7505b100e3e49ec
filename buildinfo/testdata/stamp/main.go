// Command stamp prints what buildinfo reports, for the stamping test.
package main

import (
	"encoding/json"
	"os"

	"github.com/paymentctl/paymentctl/buildinfo"
)

func main() {
	out := struct {
		Info   buildinfo.Info       `json:"info"`
		Commit buildinfo.CommitInfo `json:"commit"`
	}{buildinfo.Get(), buildinfo.Commit()}
	if err := json.NewEncoder(os.Stdout).Encode(out); err != nil {
		os.Exit(1)
	}
}
