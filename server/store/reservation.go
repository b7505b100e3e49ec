package store

import (
	"context"
	"fmt"
	"time"

	"gorm.io/gorm"
)

// Reservation is a saved card (billing key) registered by a client service
// (payment_reservations).
type Reservation struct {
	// ID is a UUID; CreateReservation generates one when it is empty.
	ID     string
	Vendor Vendor
	Source Source
	Title  string
	// Data is the PG's saved-card object, sealed.
	Data string
	// Password is the record password's hash.
	Password  string
	CreatedAt time.Time
}

type reservationRow struct {
	ID            string    `gorm:"column:id;primaryKey"`
	Service       string    `gorm:"column:service"`
	SourceSchema  string    `gorm:"column:source_schema"`
	SourceTable   string    `gorm:"column:source_table"`
	SourceID      string    `gorm:"column:source_id"`
	VendorCode    string    `gorm:"column:vendor_code"`
	VendorUID     string    `gorm:"column:vendor_uid"`
	VendorStoreID string    `gorm:"column:vendor_store_id"`
	Title         string    `gorm:"column:title"`
	Data          string    `gorm:"column:data"`
	Password      string    `gorm:"column:password"`
	CreatedAt     time.Time `gorm:"column:created_at"`
}

// TableName tells gorm the table.
func (reservationRow) TableName() string { return "payment_reservations" }

func (r *reservationRow) domain() *Reservation {
	return &Reservation{
		ID:        r.ID,
		Vendor:    Vendor{Code: r.VendorCode, StoreID: r.VendorStoreID, UID: r.VendorUID},
		Source:    Source{Service: r.Service, Schema: r.SourceSchema, Table: r.SourceTable, ID: r.SourceID},
		Title:     r.Title,
		Data:      r.Data,
		Password:  r.Password,
		CreatedAt: r.CreatedAt.UTC(),
	}
}

// CreateReservation stores a new saved card, filling in r.ID and
// r.CreatedAt when they are empty. A taken vendor (code, uid) or source
// triple is ErrConflict.
func (q *queries) CreateReservation(ctx context.Context, r *Reservation) error {
	id, err := newID(r.ID)
	if err != nil {
		return fmt.Errorf("create reservation: %w", err)
	}
	if !storable(r.Source.Service, r.Source.Schema, r.Source.Table, r.Source.ID, r.Vendor.Code, r.Vendor.UID, r.Vendor.StoreID,
		r.Title, r.Data, r.Password) {
		return unstorable("create reservation")
	}
	row := reservationRow{
		ID:            id,
		Service:       r.Source.Service,
		SourceSchema:  r.Source.Schema,
		SourceTable:   r.Source.Table,
		SourceID:      r.Source.ID,
		VendorCode:    r.Vendor.Code,
		VendorUID:     r.Vendor.UID,
		VendorStoreID: r.Vendor.StoreID,
		Title:         r.Title,
		Data:          r.Data,
		Password:      r.Password,
		CreatedAt:     q.stampOrNow(r.CreatedAt),
	}
	if err := q.conn(ctx).Create(&row).Error; err != nil {
		return translate(err, "create reservation")
	}
	r.ID, r.CreatedAt = row.ID, row.CreatedAt
	return nil
}

// Reservation returns the saved card with the given id.
func (q *queries) Reservation(ctx context.Context, id string) (*Reservation, error) {
	op := "find reservation " + id
	if !validID(id) {
		return nil, fmt.Errorf("%s: %w", op, ErrNotFound)
	}
	return findReservation(op, q.conn(ctx).Where("id = ?", id))
}

// ReservationByVendor returns the saved card the PG knows as (code, uid).
func (q *queries) ReservationByVendor(ctx context.Context, code, uid string) (*Reservation, error) {
	if !storable(code, uid) {
		return nil, fmt.Errorf("find reservation by vendor: %w", ErrNotFound)
	}
	return findReservation("find reservation "+code+" "+uid,
		q.conn(ctx).Where("vendor_code = ? AND vendor_uid = ?", code, uid))
}

// ReservationBySource returns the saved card of the client's record src;
// only src.Service's (another service's record is ErrNotFound).
func (q *queries) ReservationBySource(ctx context.Context, src Source) (*Reservation, error) {
	if !storable(src.Service, src.Schema, src.Table, src.ID) {
		return nil, fmt.Errorf("find reservation by source: %w", ErrNotFound)
	}
	return findReservation("find reservation of "+src.Schema+"."+src.Table+" "+src.ID,
		q.conn(ctx).Where("service = ? AND source_schema = ? AND source_table = ? AND source_id = ?", src.Service, src.Schema, src.Table, src.ID))
}

func findReservation(op string, db *gorm.DB) (*Reservation, error) {
	var row reservationRow
	if err := db.Take(&row).Error; err != nil {
		return nil, translate(err, op)
	}
	return row.domain(), nil
}
