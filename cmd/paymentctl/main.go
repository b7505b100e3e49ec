// Command paymentctl is the payment server for micro-service backends and
// its own operations tool: `paymentctl serve` runs the server, `schema`,
// `update`, `monitor` and `reset` operate it, and `fake` runs the fake
// payment gateways for local simulation. Run `paymentctl --help`.
package main

import "os"

func main() {
	os.Exit(int(Main()))
}
