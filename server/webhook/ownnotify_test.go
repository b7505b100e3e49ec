package webhook

import (
	"context"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/riverqueue/river/riverdriver"
)

// notifyRecorder is an executor that records the notifications it is
// asked to send.
type notifyRecorder struct {
	riverdriver.ExecutorTx
	sent []riverdriver.NotifyManyParams
}

func (r *notifyRecorder) NotifyMany(_ context.Context, p *riverdriver.NotifyManyParams) error {
	r.sent = append(r.sent, *p)
	return nil
}

// TestOwnNotifyTx: River's insert notifications for the webhook queues,
// which notifyTx sends itself, are dropped; any other notification goes
// out as River asked.
func TestOwnNotifyTx(t *testing.T) {
	for _, tc := range []struct {
		name  string
		topic string
		in    []string
		want  []string // nil: nothing sent
	}{
		{"inbound", riverInsertTopic, []string{`{"queue": "webhook_inbound"}`}, nil},
		{"delivery", riverInsertTopic, []string{`{"queue": "webhook_delivery"}`}, nil},
		{"other queue kept", riverInsertTopic, []string{`{"queue": "webhook_delivery"}`, `{"queue": "maintenance"}`}, []string{`{"queue": "maintenance"}`}},
		{"unreadable kept", riverInsertTopic, []string{`nonsense`}, []string{`nonsense`}},
		{"other topic kept", "river_control", []string{`{"queue": "webhook_inbound"}`}, []string{`{"queue": "webhook_inbound"}`}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			rec := &notifyRecorder{}
			err := ownNotifyTx{ExecutorTx: rec}.NotifyMany(context.Background(), &riverdriver.NotifyManyParams{Topic: tc.topic, Payload: tc.in})
			if err != nil {
				t.Fatal(err)
			}
			var got []string
			for _, p := range rec.sent {
				if p.Topic != tc.topic {
					t.Errorf("topic = %q, want %q", p.Topic, tc.topic)
				}
				got = append(got, p.Payload...)
			}
			if !cmp.Equal(got, tc.want) {
				t.Errorf("sent %q, want %q", got, tc.want)
			}
		})
	}
}
