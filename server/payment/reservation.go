package payment

import (
	"context"
	"encoding/json"
	"fmt"

	"github.com/google/uuid"

	"github.com/paymentctl/paymentctl/sdk"
	"github.com/paymentctl/paymentctl/server/store"
)

// CreateReservation fetches a saved card (billing key) from its PG and
// registers it.
func (s *Service) CreateReservation(ctx context.Context, in sdk.ReservationCreate) (*sdk.Reservation, error) {
	if err := vendorOf(in.Vendor.Code); err != nil {
		return nil, err
	}
	// A store that cannot be resolved is refused before the PG is asked.
	if err := s.checkStore(storeVendor(in.Vendor)); err != nil {
		return nil, err
	}
	var data any
	var err error
	switch in.Vendor.Code {
	case sdk.VendorIamport:
		var pg IamportAPI
		if pg, err = s.iamportOf(storeVendor(in.Vendor)); err == nil {
			data, err = pg.BillingKey(ctx, in.Vendor.UID)
		}
	case sdk.VendorToss:
		// Toss answers only for the customer the key was issued to, which
		// must be the source record.
		var pg TossAPI
		if pg, err = s.tossOf(storeVendor(in.Vendor)); err == nil {
			data, err = pg.GetBilling(ctx, in.Vendor.UID, in.Source.ID)
		}
	case sdk.VendorPortOne:
		// Checked for its store, status and customer; its errors are
		// the service's already.
		if data, err = s.portoneReservation(ctx, in); err != nil {
			return nil, err
		}
	}
	if err != nil {
		return nil, pgFailure(string(in.Vendor.Code), false, err)
	}
	raw, err := json.Marshal(data)
	if err != nil {
		return nil, fmt.Errorf("encode saved card: %w", err)
	}
	id := uuid.NewString()
	sealed, err := s.keys.Reservation.Seal(raw, []byte(id))
	if err != nil {
		return nil, err
	}
	r := &store.Reservation{
		ID:       id,
		Vendor:   store.Vendor{Code: string(in.Vendor.Code), StoreID: in.Vendor.StoreID, UID: in.Vendor.UID},
		Source:   sourceOf(ctx, in.Source),
		Title:    in.Title,
		Data:     sealed,
		Password: s.keys.Passwords.Hash(in.Password),
	}
	if err := s.store.CreateReservation(ctx, r); err != nil {
		return nil, err
	}
	return s.Reservation(ctx, id, in.Password)
}

// Reservation returns a saved card by id after checking its password.
func (s *Service) Reservation(ctx context.Context, id, password string) (*sdk.Reservation, error) {
	r, err := s.store.Reservation(ctx, id)
	if err != nil {
		return nil, err
	}
	if err := owned(ctx, "find reservation "+id, r.Source.Service); err != nil {
		return nil, err
	}
	if err := s.checkPassword(r.Password, password); err != nil {
		return nil, err
	}
	return s.reservationDTO(r)
}

// ReservationBySource returns a saved card by its source record after
// checking its password.
func (s *Service) ReservationBySource(ctx context.Context, in sdk.Accessor) (*sdk.Reservation, error) {
	r, err := s.store.ReservationBySource(ctx, sourceOf(ctx, in.Source))
	if err != nil {
		return nil, err
	}
	if err := s.checkPassword(r.Password, in.Password); err != nil {
		return nil, err
	}
	return s.reservationDTO(r)
}

// reservationDTO turns a stored reservation into the API's shape.
func (s *Service) reservationDTO(r *store.Reservation) (*sdk.Reservation, error) {
	data, err := s.keys.Reservation.Open(r.Data, []byte(r.ID))
	if err != nil {
		return nil, fmt.Errorf("open reservation %s: %w", r.ID, err)
	}
	return &sdk.Reservation{
		ID:         r.ID,
		VendorCode: sdk.VendorCode(r.Vendor.Code),
		Vendor:     sdk.Vendor{Code: sdk.VendorCode(r.Vendor.Code), StoreID: r.Vendor.StoreID, UID: r.Vendor.UID},
		Source:     sdk.Source{Schema: r.Source.Schema, Table: r.Source.Table, ID: r.Source.ID},
		Title:      r.Title,
		Data:       json.RawMessage(data),
		CreatedAt:  r.CreatedAt,
	}, nil
}
