package server

import (
	"fmt"
	"net/http"
	"time"

	"github.com/paymentctl/paymentctl/config"
	"github.com/paymentctl/paymentctl/gateway/iamport"
	"github.com/paymentctl/paymentctl/gateway/portone"
	"github.com/paymentctl/paymentctl/gateway/toss"
	"github.com/paymentctl/paymentctl/server/payment"
)

// storeClients resolves a record's store to its PG client
// (payment.Gateways): one client per configured store (config `stores`)
// and one for the top-level credentials, all built at start-up. An
// Iamport client caches the access token of its own key pair, so each
// store keeps its token. A store id that is not configured gets the
// top-level client, unless the configuration refuses unknown stores for
// that PG (real mode with stores of that PG configured;
// config.Config.RefusesUnknownStores).
type storeClients struct {
	iamport storeSet[payment.IamportAPI]
	toss    storeSet[payment.TossAPI]
	// portone's top is nil when the top-level PortOne V2 is off.
	portone storeSet[payment.PortOneAPI]
}

// storeSet is the clients of one PG.
type storeSet[C any] struct {
	top    C            // the top-level credentials'
	stores map[string]C // by store id
	strict bool         // refuse a store id not in stores
}

// get resolves a store id.
func (s storeSet[C]) get(storeID string) (C, error) {
	if c, ok := s.stores[storeID]; ok {
		return c, nil
	}
	if s.strict {
		var zero C
		return zero, payment.ErrUnknownStore
	}
	return s.top, nil
}

// Iamport returns the Iamport client of a store (payment.Gateways).
func (c *storeClients) Iamport(storeID string) (payment.IamportAPI, error) {
	return c.iamport.get(storeID)
}

// Toss returns the Toss client of a store (payment.Gateways).
func (c *storeClients) Toss(storeID string) (payment.TossAPI, error) { return c.toss.get(storeID) }

// PortOne returns the PortOne V2 client of a store (payment.Gateways); nil
// when the store falls back to a top-level PortOne V2 that is off.
func (c *storeClients) PortOne(storeID string) (payment.PortOneAPI, error) {
	return c.portone.get(storeID)
}

// pgEndpoints are where the PGs are and the top-level credentials, as
// App.gateways settled them (the configured ones, or local mode's fakes).
type pgEndpoints struct {
	iamportURL, iamportKey, iamportSecret string
	tossURL, tossSecret                   string
	// fakeCredentials: the URLs are the fakes local mode runs, which
	// accept only their own credentials, so every store uses those.
	fakeIamport, fakeToss bool
	// portone is PortOne V2's URL and top-level credentials (off when the
	// secret is empty; portone.fake for local mode's fake).
	portone portoneSettings
}

// newStoreClients builds the clients of the top-level credentials and of
// every configured store, on one transport (wrapped per PG by wrap, for
// the metrics).
func newStoreClients(cfg *config.Config, ep pgEndpoints, timeout time.Duration, wrap func(pg string) *http.Client) (*storeClients, error) {
	newIamport := func(key, secret string) *iamport.Client {
		return iamport.New(iamport.Options{BaseURL: ep.iamportURL, Key: key, Secret: secret, Timeout: timeout, HTTPClient: wrap("iamport")})
	}
	newToss := func(secret string) *toss.Client {
		return toss.New(toss.Options{BaseURL: ep.tossURL, SecretKey: secret, Timeout: timeout, HTTPClient: wrap("toss")})
	}
	newPortOne := func(secret, storeID string) *portone.Client {
		return portone.New(portone.Options{BaseURL: ep.portone.url, Secret: secret, StoreID: storeID, Timeout: timeout, HTTPClient: wrap("portone")})
	}
	c := &storeClients{
		iamport: storeSet[payment.IamportAPI]{top: newIamport(ep.iamportKey, ep.iamportSecret), stores: map[string]payment.IamportAPI{},
			strict: cfg.RefusesUnknownStores(config.StoreVendorIamport)},
		toss: storeSet[payment.TossAPI]{top: newToss(ep.tossSecret), stores: map[string]payment.TossAPI{},
			strict: cfg.RefusesUnknownStores(config.StoreVendorToss)},
		portone: storeSet[payment.PortOneAPI]{stores: map[string]payment.PortOneAPI{},
			strict: cfg.RefusesUnknownStores(config.StoreVendorPortOne)},
	}
	if ep.portone.secret != "" {
		c.portone.top = newPortOne(ep.portone.secret, ep.portone.storeID)
		// The top-level PortOne V2 names a store of its own: records of
		// that store are served in every mode.
		if ep.portone.storeID != "" {
			c.portone.stores[ep.portone.storeID] = c.portone.top
		}
	}
	for _, st := range cfg.Stores {
		switch st.Vendor {
		case config.StoreVendorIamport:
			if ep.fakeIamport {
				c.iamport.stores[st.StoreID] = c.iamport.top
				continue
			}
			c.iamport.stores[st.StoreID] = newIamport(st.Key.Reveal(), st.Secret.Reveal())
		case config.StoreVendorToss:
			if ep.fakeToss {
				c.toss.stores[st.StoreID] = c.toss.top
				continue
			}
			c.toss.stores[st.StoreID] = newToss(st.Secret.Reveal())
		case config.StoreVendorPortOne:
			if ep.portone.fake {
				c.portone.stores[st.StoreID] = c.portone.top
				continue
			}
			c.portone.stores[st.StoreID] = newPortOne(st.Secret.Reveal(), st.StoreID)
		default:
			return nil, fmt.Errorf("store %q: unknown vendor %q", st.StoreID, st.Vendor)
		}
	}
	return c, nil
}
