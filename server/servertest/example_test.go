package servertest_test

import (
	"context"
	"testing"

	"github.com/paymentctl/paymentctl/sdk"
	"github.com/paymentctl/paymentctl/server/servertest"
)

// A client service's test runs paymentctl in process; the test below is
// what goes in the service's _test.go file (an example cannot receive a
// *testing.T, so this one is compiled, not run).
func ExampleStart() {
	testCheckout := func(t *testing.T) {
		srv := servertest.Start(t, nil) // stopped when t ends; silent unless -v
		client, err := sdk.New(sdk.Options{
			BaseURL: srv.URL,
			Key:     srv.Config.Connection.Encryption.Key.Reveal(),
			IV:      srv.Config.Connection.Encryption.IV.Reveal(),
		})
		if err != nil {
			t.Fatal(err)
		}
		if err := client.Health(context.Background()); err != nil {
			t.Fatal(err)
		}
		// Pay at srv.Fakes.IamportURL or srv.Fakes.TossURL, register the
		// payment with client.CreateHistory, and check what the service's
		// webhook_url receives.
	}
	_ = testCheckout
}
