package payment

import (
	"context"
	"fmt"

	"github.com/paymentctl/paymentctl/server/store"
	"github.com/paymentctl/paymentctl/wirecrypt"
)

// DefaultService is the name of the default service: requests without an
// API key, served with the top-level connection keys. It owns every record
// made before services existed.
const DefaultService = ""

// serviceKey is the context key of the calling service's name.
type serviceKey struct{}

// WithService returns ctx for a request of the service name, which the
// server's API-key middleware authenticated. Records it registers belong
// to it, and it finds only its own.
func WithService(ctx context.Context, name string) context.Context {
	return context.WithValue(ctx, serviceKey{}, name)
}

// ServiceOf returns the calling service set by WithService, or
// DefaultService.
func ServiceOf(ctx context.Context) string {
	name, _ := ctx.Value(serviceKey{}).(string)
	return name
}

// ServiceKeys are what events forwarded to one service are sealed and
// signed with.
type ServiceKeys struct {
	// Wire encrypts the event bodies (the service's key and IV).
	Wire *wirecrypt.Cipher
	// WebhookSecret signs them; nil means the queue's default (the
	// top-level webhook.secret).
	WebhookSecret []byte
}

// keysOf returns the forwarding keys of the service name: a configured
// service's, or the top-level ones for the default service. A service
// that is no longer configured has none: its events wait (and are
// retried) until it is configured again or their delivery is given up.
func (s *Service) keysOf(name string) (ServiceKeys, error) {
	if name == DefaultService {
		return ServiceKeys{Wire: s.wire}, nil
	}
	k, ok := s.services[name]
	if !ok || k.Wire == nil {
		return ServiceKeys{}, fmt.Errorf("service %q is not configured", name)
	}
	return k, nil
}

// owned reports whether the calling service owns a record of owner. A
// record of another service is answered as a missing one (404), before
// its password is checked, so that neither its existence nor its password
// leaks, at the cost of a missing record.
func owned(ctx context.Context, op string, owner string) error {
	if owner != ServiceOf(ctx) {
		return fmt.Errorf("%s: %w", op, store.ErrNotFound)
	}
	return nil
}
