package server

import (
	"encoding/json"
	"fmt"
	"net/http"
	"time"

	"github.com/paymentctl/paymentctl/gateway/portone"
)

// portoneSigners verifies a PortOne V2 webhook with the secret of the
// store it is about: PortOne signs each store's webhooks with that store's
// secret, so a body naming store A verifies only under A's secret (either
// of two during a rotation), and a secret leaked from store B cannot speak
// for A. A store with no webhook_secret of its own, or one not configured
// at all (local and dev mode), is verified with the top-level
// portone.webhook_secret.
//
// The store is read from the unverified body only to pick the secret; a
// body that names none, or is not JSON, is checked against the top-level
// secret and refused later if it does not parse. Either way a forged
// webhook costs one HMAC per secret of one store.
type portoneSigners struct {
	byStore  map[string]*portone.WebhookVerifier
	fallback *portone.WebhookVerifier // nil: only the stores' own secrets
}

// newPortOneSigners returns the signers of the top-level secrets (nil or
// empty when the top-level PortOne V2 is off) and of each store's
// (store id → secrets; a store with none is left out). It returns nil
// when no secret is configured at all: PortOne V2 webhooks are then
// refused.
func newPortOneSigners(top []string, topStoreID string, stores map[string][]string) (*portoneSigners, error) {
	p := &portoneSigners{byStore: map[string]*portone.WebhookVerifier{}}
	if len(top) > 0 {
		v, err := portone.NewWebhookVerifier(top...)
		if err != nil {
			return nil, fmt.Errorf("portone.webhook_secret: %w", err)
		}
		p.fallback = v
		if topStoreID != "" {
			p.byStore[topStoreID] = v
		}
	}
	for id, secrets := range stores {
		if len(secrets) == 0 {
			continue
		}
		v, err := portone.NewWebhookVerifier(secrets...)
		if err != nil {
			return nil, fmt.Errorf("stores[%s].webhook_secret: %w", id, err)
		}
		p.byStore[id] = v
	}
	if p.fallback == nil && len(p.byStore) == 0 {
		return nil, nil
	}
	return p, nil
}

// verifyAt checks body, received with header at now, under the secrets of
// the store the body names. The error wraps portone.ErrWebhookHeader,
// ErrWebhookTimestamp or ErrWebhookSignature.
func (p *portoneSigners) verifyAt(header http.Header, body []byte, now time.Time) error {
	var named struct {
		Data struct {
			StoreID string `json:"storeId"`
		} `json:"data"`
	}
	_ = json.Unmarshal(body, &named) // untrusted: it only picks the secret
	v, ok := p.byStore[named.Data.StoreID]
	if !ok {
		v = p.fallback
	}
	if v == nil {
		return portone.ErrWebhookSignature
	}
	return v.VerifyAt(header, body, now)
}
