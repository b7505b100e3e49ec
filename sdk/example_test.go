package sdk_test

import (
	"fmt"
	"net/http"
	"time"

	"github.com/paymentctl/paymentctl/sdk"
)

func ExampleVerifyWebhook() {
	// The secret is configured on both sides in its text form.
	key, err := sdk.ParseWebhookSecret("whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw")
	if err != nil {
		fmt.Println(err)
		return
	}
	body := []byte(`{"test": 2432232314}`)
	sent := time.Unix(1614265330, 0)

	// The sender's side: the three headers of a delivery.
	header := http.Header{}
	header.Set(sdk.WebhookIDHeader, "msg_p5jXN8AQM9LWM0D4loKWxJek")
	header.Set(sdk.WebhookTimestampHeader, fmt.Sprint(sent.Unix()))
	header.Set(sdk.WebhookSignatureHeader, sdk.SignWebhook(key, "msg_p5jXN8AQM9LWM0D4loKWxJek", sent, body))
	fmt.Println(header.Get(sdk.WebhookSignatureHeader))

	// The receiver's side, a few seconds later.
	fmt.Println(sdk.VerifyWebhook(key, header, body, 0, sent.Add(3*time.Second)))
	fmt.Println(sdk.VerifyWebhook(key, header, []byte(`{"test": 0}`), 0, sent.Add(3*time.Second)))
	fmt.Println(sdk.VerifyWebhook(key, header, body, 0, sent.Add(time.Hour)) != nil)
	// Output:
	// v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE=
	// <nil>
	// no matching webhook signature
	// true
}
