package sdk

import (
	"encoding/json"
	"time"
)

// VendorCode names a payment gateway.
type VendorCode string

// The vendor codes the API accepts.
const (
	VendorIamport VendorCode = "iamport"
	VendorToss    VendorCode = "toss.payments"
	// VendorPortOne is PortOne V2 (api.portone.io), Iamport's successor.
	VendorPortOne VendorCode = "portone"
)

// Valid reports whether c is a known vendor code.
func (c VendorCode) Valid() bool {
	return c == VendorIamport || c == VendorToss || c == VendorPortOne
}

// Vendor identifies a record at its PG (IPaymentVendor).
type Vendor struct {
	Code VendorCode `json:"code"`
	// StoreID is the store (merchant) registered at the PG; for PortOne V2
	// the store id (store-…) the payment or billing key belongs to.
	StoreID string `json:"store_id"`
	// UID is the PG's id: Iamport imp_uid (payments) or customer_uid (saved
	// cards); Toss paymentKey (payments) or billingKey (saved cards);
	// PortOne V2 paymentId (payments, equal to Source.ID) or billingKey
	// (saved cards).
	UID string `json:"uid"`
}

// Source is the service's own record a payment belongs to (IPaymentSource).
type Source struct {
	Schema string `json:"schema"`
	Table  string `json:"table"`
	// ID is a UUID; for Toss it is also the orderId (payments) or
	// customerKey (saved cards), for Iamport the merchant_uid or
	// customer_uid, for PortOne V2 the paymentId (payments) or the billing
	// key's customer.id when it has one (saved cards).
	ID string `json:"id"`
}

// Password is the body of a look-up by id (IPaymentSource.IPassword).
type Password struct {
	Password string `json:"password"`
}

// Accessor is the body of a look-up by source (IPaymentSource.IAccessor).
type Accessor struct {
	Source
	Password string `json:"password"`
}

// History is a payment as paymentctl stores it (IPaymentHistory). Data is
// the PG's full payment object: decode it with IamportPayment or
// TossPayment according to VendorCode.
type History struct {
	ID         string          `json:"id"`
	VendorCode VendorCode      `json:"vendor_code"`
	Vendor     Vendor          `json:"vendor"`
	Source     Source          `json:"source"`
	Data       json.RawMessage `json:"data"`
	Currency   string          `json:"currency"`
	// Price is the amount paid, in the currency's whole units (KRW has no
	// minor unit); money is never a float.
	Price int64 `json:"price"`
	// Refund is the total refunded, nil when nothing was.
	Refund      *int64          `json:"refund"`
	WebhookURL  *string         `json:"webhook_url"`
	CreatedAt   time.Time       `json:"created_at"`
	PaidAt      *time.Time      `json:"paid_at"`
	CancelledAt *time.Time      `json:"cancelled_at"`
	Cancels     []CancelHistory `json:"cancels"`
}

// HistoryCreate registers a payment made in a PG popup
// (IPaymentHistory.ICreate).
type HistoryCreate struct {
	Vendor Vendor `json:"vendor"`
	Source Source `json:"source"`
	// Price is the amount the service expects; a payment of another amount
	// is refused (and cancelled at the PG for Iamport) with 422.
	Price int64 `json:"price"`
	// Password guards every later read and cancel of the record.
	Password   string `json:"password"`
	WebhookURL string `json:"webhook_url"`
}

// CancelHistory is one cancel (refund) of a payment (IPaymentCancelHistory).
type CancelHistory struct {
	Reason    string    `json:"reason"`
	Price     int64     `json:"price"`
	CreatedAt time.Time `json:"created_at"`
}

// BankAccount is where a virtual-account payment is refunded; it is sent
// to the PG and never stored.
type BankAccount struct {
	Bank    string `json:"bank"`
	Account string `json:"account"`
	Holder  string `json:"holder"`
	Mobile  string `json:"mobile"`
}

// CancelCreate asks for a full or partial cancel
// (IPaymentCancelHistory.ICreate).
type CancelCreate struct {
	Source   Source `json:"source"`
	Password string `json:"password"`
	// Price is the amount to refund; less than the remaining amount makes
	// a partial cancel.
	Price   int64        `json:"price"`
	Reason  string       `json:"reason"`
	Account *BankAccount `json:"account"`
}

// Reservation is a saved card (billing key) as paymentctl stores it
// (IPaymentReservation). Data is the PG's saved-card object.
type Reservation struct {
	ID         string          `json:"id"`
	VendorCode VendorCode      `json:"vendor_code"`
	Vendor     Vendor          `json:"vendor"`
	Source     Source          `json:"source"`
	Title      string          `json:"title"`
	Data       json.RawMessage `json:"data"`
	CreatedAt  time.Time       `json:"created_at"`
}

// ReservationCreate registers a saved card (IPaymentReservation.ICreate).
type ReservationCreate struct {
	Vendor   Vendor `json:"vendor"`
	Source   Source `json:"source"`
	Title    string `json:"title"`
	Password string `json:"password"`
}

// WebhookHistory is the event paymentctl forwards to a service's
// webhook_url when a PG reports a change (IPaymentWebhookHistory): the
// record before and after paymentctl re-fetched it from the PG.
type WebhookHistory struct {
	ID       string  `json:"id"`
	Source   Source  `json:"source"`
	Previous History `json:"previous"`
	Current  History `json:"current"`
}

// Performance is the process's resource use (IPerformance, adapted to Go:
// CPU times in microseconds, memory in bytes).
type Performance struct {
	CPU struct {
		User   int64 `json:"user"`
		System int64 `json:"system"`
	} `json:"cpu"`
	Memory struct {
		RSS          int64 `json:"rss"`
		HeapTotal    int64 `json:"heapTotal"`
		HeapUsed     int64 `json:"heapUsed"`
		External     int64 `json:"external"`
		ArrayBuffers int64 `json:"arrayBuffers"`
	} `json:"memory"`
	Resource Resource `json:"resource"`
	Runtime  Runtime  `json:"runtime"`
}

// Resource holds the getrusage fields Node reports, in its units
// (microseconds, kilobytes, counts).
type Resource struct {
	UserCPUTime                int64 `json:"userCPUTime"`
	SystemCPUTime              int64 `json:"systemCPUTime"`
	MaxRSS                     int64 `json:"maxRSS"`
	SharedMemorySize           int64 `json:"sharedMemorySize"`
	UnsharedDataSize           int64 `json:"unsharedDataSize"`
	UnsharedStackSize          int64 `json:"unsharedStackSize"`
	MinorPageFault             int64 `json:"minorPageFault"`
	MajorPageFault             int64 `json:"majorPageFault"`
	SwappedOut                 int64 `json:"swappedOut"`
	FSRead                     int64 `json:"fsRead"`
	FSWrite                    int64 `json:"fsWrite"`
	IPCSent                    int64 `json:"ipcSent"`
	IPCReceived                int64 `json:"ipcReceived"`
	SignalsCount               int64 `json:"signalsCount"`
	VoluntaryContextSwitches   int64 `json:"voluntaryContextSwitches"`
	InvoluntaryContextSwitches int64 `json:"involuntaryContextSwitches"`
}

// Runtime holds Go runtime figures that Node has no equivalent of.
type Runtime struct {
	Goroutines int    `json:"goroutines"`
	NumGC      uint32 `json:"num_gc"`
	PauseTotal int64  `json:"gc_pause_total_ns"`
	// Requests and Errors count HTTP requests served and those answered
	// with a 5xx since the process started.
	Requests int64 `json:"requests"`
	Errors   int64 `json:"errors"`
}

// System describes the running process (ISystem, adapted to Go: the
// module and its dependencies replace package.json).
type System struct {
	UID       string   `json:"uid"`
	Arguments []string `json:"arguments"`
	Commit    Commit   `json:"commit"`
	Package   Package  `json:"package"`
	CreatedAt string   `json:"created_at"`
}

// Commit is the source revision the binary was built from, embedded at
// build time. The fields are the original's (git-last-commit's), so its
// SDK's ISystem.ICommit validates; fields a Go build does not record (body,
// tags) are empty.
type Commit struct {
	ShortHash        string    `json:"shortHash"`
	Hash             string    `json:"hash"`
	Branch           string    `json:"branch"`
	Subject          string    `json:"subject"`
	SanitizedSubject string    `json:"sanitizedSubject"`
	Body             string    `json:"body"`
	Author           Signature `json:"author"`
	Committer        Signature `json:"committer"`
	Tags             []string  `json:"tags"`
	AuthoredAt       string    `json:"authored_at"`
	CommitedAt       string    `json:"commited_at"`
}

// Signature is a commit author.
type Signature struct {
	Name  string `json:"name"`
	Email string `json:"email"`
}

// Package describes the Go module in package.json's place, with
// package.json's fields so the original SDK's ISystem.IPackage validates.
type Package struct {
	Name            string            `json:"name"`
	Version         string            `json:"version"`
	Description     string            `json:"description"`
	Scripts         map[string]string `json:"scripts"`
	Repository      Repository        `json:"repository"`
	Author          string            `json:"author"`
	License         string            `json:"license"`
	Bugs            URL               `json:"bugs"`
	Homepage        string            `json:"homepage"`
	GoVersion       string            `json:"go_version"`
	Dependencies    map[string]string `json:"dependencies"`
	DevDependencies map[string]string `json:"devDependencies"`
}

// Repository is package.json's repository field.
type Repository struct {
	Type string `json:"type"`
	URL  string `json:"url"`
}

// URL is an object holding one address, as package.json's bugs field.
type URL struct {
	URL string `json:"url"`
}
