package payment

import (
	"errors"

	"github.com/paymentctl/paymentctl/sdk"
	"github.com/paymentctl/paymentctl/server/store"
)

// ErrUnknownStore is the reason of a refusal (it wraps ErrRefused too)
// for a record whose vendor.store_id is no store configured for its PG,
// where the configuration does not fall back to the top-level credentials
// (real mode; see config.Config.RefusesUnknownStores). Gateways returns an
// error wrapping it; the service turns it into a refusal before any PG
// call or row.
var ErrUnknownStore = errors.New("unknown store")

// Gateways resolves a record's store, vendor.store_id, to the client of
// its PG that holds that merchant account's credentials (config
// `stores`), or the top-level credentials' client when the store is not
// configured and the mode falls back. Every PG call for a record goes
// through it: registration, cancel, re-fetch, reconciliation and webhook
// processing. Implementations build their clients once (an Iamport client
// caches its token, which belongs to one key pair) and resolve with a map
// look-up; they must be safe for concurrent use.
type Gateways interface {
	Iamport(storeID string) (IamportAPI, error)
	Toss(storeID string) (TossAPI, error)
	// PortOne returns nil, nil when the store falls back to a top-level
	// PortOne V2 that is not configured.
	PortOne(storeID string) (PortOneAPI, error)
}

// fixedGateways serves every store with one client per PG: a deployment
// with no stores configured, and what Options.Iamport and Options.Toss
// stand for when Options.Gateways is nil.
type fixedGateways struct {
	iamport IamportAPI
	toss    TossAPI
	portone PortOneAPI // nil when PortOne V2 is off
}

func (g fixedGateways) Iamport(string) (IamportAPI, error) { return g.iamport, nil }
func (g fixedGateways) Toss(string) (TossAPI, error)       { return g.toss, nil }
func (g fixedGateways) PortOne(string) (PortOneAPI, error) { return g.portone, nil }

// iamportOf returns the Iamport client of a record's store.
func (s *Service) iamportOf(v store.Vendor) (IamportAPI, error) {
	c, err := s.gateways.Iamport(v.StoreID)
	return c, storeError(sdk.VendorIamport, err)
}

// tossOf returns the Toss client of a record's store.
func (s *Service) tossOf(v store.Vendor) (TossAPI, error) {
	c, err := s.gateways.Toss(v.StoreID)
	return c, storeError(sdk.VendorToss, err)
}

// portOneOf returns the PortOne V2 client of a record's store, or
// errPortOneOff when the store falls back to a PortOne V2 that is off.
func (s *Service) portOneOf(v store.Vendor) (PortOneAPI, error) {
	c, err := s.gateways.PortOne(v.StoreID)
	if err != nil {
		return nil, storeError(sdk.VendorPortOne, err)
	}
	if c == nil {
		return nil, errPortOneOff
	}
	return c, nil
}

// checkStore refuses a record whose store cannot be resolved, before the
// flow writes anything or calls a PG.
func (s *Service) checkStore(v store.Vendor) error {
	var err error
	switch sdk.VendorCode(v.Code) {
	case sdk.VendorIamport:
		_, err = s.iamportOf(v)
	case sdk.VendorToss:
		_, err = s.tossOf(v)
	case sdk.VendorPortOne:
		_, err = s.portOneOf(v)
	}
	return err
}

// storeError turns a resolver's ErrUnknownStore into the refusal the
// client sees, naming the field and not the value it sent.
func storeError(vendor sdk.VendorCode, err error) error {
	if errors.Is(err, ErrUnknownStore) {
		return requestRefusedf(ErrUnknownStore, "no %s store is configured under this vendor.store_id", vendor)
	}
	return err
}

// storeVendor is the vendor of a request as the store keeps it.
func storeVendor(v sdk.Vendor) store.Vendor {
	return store.Vendor{Code: string(v.Code), StoreID: v.StoreID, UID: v.UID}
}
