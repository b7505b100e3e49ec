package metrics

import (
	"net/http"
	"strings"
)

// The operation label of PG calls: a fixed set, whatever path a PG's
// API grows.
const (
	opToken         = "token"         // Iamport's access token
	opGetPayment    = "get_payment"   // re-fetch a payment (by id or order)
	opConfirm       = "confirm"       // Toss's capture
	opCancel        = "cancel"        // refund
	opPay           = "pay"           // a payment made by paymentctl's fakes and tools (key-in, one-time)
	opBilling       = "billing"       // billing keys and recurring payments
	opVirtualAcct   = "vbank"         // virtual accounts
	opReceipt       = "receipt"       // cash receipts
	opCertification = "certification" // identity certification
	opOther         = "other"
)

// pgOperation maps a call to a PG's API to a bounded operation label,
// from the method and the path after the client's base URL (any prefix
// before the known segments is skipped).
func pgOperation(pg, method, path string) string {
	switch pg {
	case "iamport":
		return iamportOperation(method, path)
	case "toss":
		return tossOperation(method, path)
	case "portone":
		return portoneOperation(method, path)
	}
	return opOther
}

// portoneOperation maps PortOne V2 routes. A paymentId is one escaped
// segment (an id holding "/" arrives as %2F), so the route is known by
// the segment after it.
func portoneOperation(method, path string) string {
	seg := segmentsFrom(path, "payments", "billing-keys", "login")
	if len(seg) == 0 {
		return opOther
	}
	switch seg[0] {
	case "login":
		return opToken
	case "billing-keys":
		return opBilling
	case "payments":
		switch {
		case len(seg) == 2 && method == http.MethodGet:
			return opGetPayment
		case len(seg) == 3 && seg[2] == "cancel":
			return opCancel
		case len(seg) == 3 && seg[2] == "billing-key":
			return opBilling
		case len(seg) == 4 && seg[2] == "virtual-account":
			return opVirtualAcct
		}
	}
	return opOther
}

// iamportOperation maps Iamport (PortOne v1) routes.
func iamportOperation(method, path string) string {
	seg := segmentsFrom(path, "users", "payments", "subscribe", "vbanks", "receipts", "certifications")
	if len(seg) == 0 {
		return opOther
	}
	switch seg[0] {
	case "users":
		if len(seg) > 1 && seg[1] == "getToken" {
			return opToken
		}
	case "payments":
		switch {
		case len(seg) > 1 && seg[1] == "cancel":
			return opCancel
		case method == http.MethodGet:
			return opGetPayment
		}
	case "subscribe":
		if len(seg) > 2 && seg[1] == "payments" && seg[2] == "onetime" {
			return opPay
		}
		return opBilling
	case "vbanks":
		return opVirtualAcct
	case "receipts":
		return opReceipt
	case "certifications":
		return opCertification
	}
	return opOther
}

// tossOperation maps Toss Payments v1 routes.
func tossOperation(method, path string) string {
	seg := segmentsFrom(path, "v1")
	if len(seg) < 2 {
		return opOther
	}
	switch seg[1] {
	case "payments":
		switch {
		case len(seg) == 3 && seg[2] == "confirm":
			return opConfirm
		case len(seg) == 3 && seg[2] == "key-in":
			return opPay
		case len(seg) == 4 && seg[3] == "cancel":
			return opCancel
		case method == http.MethodGet:
			return opGetPayment
		case len(seg) == 3:
			return opConfirm // POST /v1/payments/{paymentKey}: the older approval route
		}
	case "billing":
		return opBilling
	case "virtual-accounts":
		return opVirtualAcct
	case "cash-receipts":
		return opReceipt
	}
	return opOther
}

// segmentsFrom splits path into segments and returns them from the first
// one in first on, or nil.
func segmentsFrom(path string, first ...string) []string {
	seg := strings.Split(strings.Trim(path, "/"), "/")
	for i, s := range seg {
		for _, f := range first {
			if s == f {
				return seg[i:]
			}
		}
	}
	return nil
}
