package server

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"reflect"
	"strings"
	"unicode/utf8"

	"github.com/gin-gonic/gin"

	"github.com/paymentctl/paymentctl/internal/safetext"
	"github.com/paymentctl/paymentctl/sdk"
)

// Bounds of the request fields, in characters (Unicode code points); the
// package doc lists them per field. Every string field must also be valid
// UTF-8 without control characters: PostgreSQL refuses NUL and invalid
// UTF-8, and such text must never reach a log, a PG or a job's error
// record.
const (
	maxStoreID    = 128
	maxVendorUID  = 200 // Toss allows paymentKey and billingKey up to 200
	maxSourceName = 64  // source.schema and source.table
	maxPassword   = 256
	maxWebhookURL = 1024 // payment_histories.webhook_url is varchar(1024)
	maxReason     = 1000
	maxTitle      = 256
	maxBank       = 64
	maxAccount    = 64
	maxHolder     = 128
	maxMobile     = 32
	// uuidChars is the length of a UUID in the canonical form.
	uuidChars = 36
)

// vendorUIDExtra are the characters a vendor.uid may hold besides ASCII
// letters and digits: enough for Iamport's imp_uid and customer_uid and
// Toss's paymentKey and billingKey (URL-safe base64 with padding), and
// never a path separator, a space or a control character.
const vendorUIDExtra = "-_.=:@+~"

// problems collects validation failures in typia's style
// ("$input.source.id: expected a UUID …, got a string of 35 characters"),
// so a client sees every mistake at once. A message names the field and
// what is wrong with its value (safetext.Describe), never the value: the
// sender's bytes do not come back.
type problems []string

func (p *problems) addf(format string, args ...any) { *p = append(*p, fmt.Sprintf(format, args...)) }

// err returns a 400 listing the problems, or nil.
func (p problems) err() error {
	if len(p) == 0 {
		return nil
	}
	return &HTTPError{Status: http.StatusBadRequest, Message: "Invalid request body: " + strings.Join(p, "; ")}
}

// decode reads the (already decrypted) JSON body into v, requiring the
// given top-level keys, not null; extra keys are tolerated as the original
// does.
func decode(c *gin.Context, v any, required ...string) error {
	raw, err := io.ReadAll(http.MaxBytesReader(c.Writer, c.Request.Body, maxBody))
	if err != nil {
		return errorf(http.StatusRequestEntityTooLarge, "Request body is larger than %d bytes.", maxBody)
	}
	// encoding/json would turn invalid UTF-8 into U+FFFD silently.
	if !utf8.Valid(raw) {
		return errorf(http.StatusBadRequest, "Request body is not valid UTF-8.")
	}
	return decodeJSON(raw, v, required)
}

// decodeJSON is decode's work on the body's bytes, which are valid UTF-8.
// Its refusals, in this order: not a JSON object, required keys missing
// or null, a value of the wrong type.
//
// The body is decoded once: into v, then the required keys are looked up
// in the bytes (presentKeys). A body that is not valid JSON, not an
// object, or has an escaped key goes to decodeJSONSlow, which decodes it
// twice (into a map of its keys, then into v) and answers exactly as
// before; on the others both give the same answer (TestDecodeJSON).
func decodeJSON(raw []byte, v any, required []string) error {
	err := json.Unmarshal(raw, v)
	var se *json.SyntaxError
	if errors.As(err, &se) {
		return decodeJSONSlow(raw, v, required)
	}
	var present [maxRequired]bool
	if len(required) > maxRequired || !presentKeys(raw, required, present[:len(required)]) {
		return decodeJSONSlow(raw, v, required)
	}
	var p problems
	for i, k := range required {
		if !present[i] {
			p.addf("$input.%s: required", k)
		}
	}
	if err := p.err(); err != nil {
		return err
	}
	return typeError(err)
}

// maxRequired is the most required keys decodeJSON looks up itself.
const maxRequired = 8

// decodeJSONSlow is decodeJSON by a map of the body's top-level keys:
// any valid UTF-8 body.
func decodeJSONSlow(raw []byte, v any, required []string) error {
	var keys map[string]json.RawMessage
	if err := json.Unmarshal(raw, &keys); err != nil {
		return &HTTPError{Status: http.StatusBadRequest, Message: "Request body is not a JSON object.", Err: err}
	}
	var p problems
	for _, k := range required {
		// null would decode as the zero value (a price of 0).
		if v, ok := keys[k]; !ok || string(v) == "null" {
			p.addf("$input.%s: required", k)
		}
	}
	if err := p.err(); err != nil {
		return err
	}
	// decodeJSON may have decoded into v already.
	reflect.ValueOf(v).Elem().SetZero()
	return typeError(json.Unmarshal(raw, v))
}

// typeError turns the error of decoding the body into v into the answer.
func typeError(err error) error {
	if err == nil {
		return nil
	}
	var te *json.UnmarshalTypeError
	if errors.As(err, &te) {
		// te.Value holds a number's literal, which may be a secret sent
		// as a number: name its kind only, and log no more than that.
		kind, _, _ := strings.Cut(te.Value, " ")
		return &HTTPError{Status: http.StatusBadRequest, Message: fmt.Sprintf(
			"Invalid request body: $input.%s: expected %s, got a JSON %s", safetext.Clean(te.Field, 64), wantType(te), safetext.Clean(kind, 16))}
	}
	return &HTTPError{Status: http.StatusBadRequest, Message: "Invalid request body.", Err: err}
}

// wantType names the Go type a field needed in client terms.
func wantType(te *json.UnmarshalTypeError) string {
	switch te.Type.Kind().String() {
	case "int64", "int":
		return "a whole number"
	case "string":
		return "a string"
	case "struct", "ptr":
		return "an object"
	}
	return te.Type.String()
}

// expectUUID is what a refused UUID was expected to be.
const expectUUID = "expected a UUID (36 characters, 8-4-4-4-12 hex digits)"

// checkUUID requires a UUID in the canonical form the database takes.
func checkUUID(p *problems, path, v string) {
	if !safetext.CanonicalUUID(v) {
		p.addf("$input.%s: %s, got %s", path, expectUUID, describeUUID(v))
	}
}

// describeUUID says what is wrong with a value that is not a canonical
// UUID, without quoting it.
func describeUUID(v string) string {
	return safetext.DescribeToken(v, uuidChars, "-")
}

// checkText requires a string that is not blank, is at most limit
// characters long and holds no control character.
func checkText(p *problems, path, v string, limit int) {
	if strings.TrimSpace(v) == "" || !safetext.Valid(v, limit) {
		p.addf("$input.%s: expected a non-empty string of at most %d characters without control characters, got %s", path, limit, safetext.Describe(v, limit))
	}
}

// checkOptionalText is checkText for a field that may be empty.
func checkOptionalText(p *problems, path, v string, limit int) {
	if v != "" {
		checkText(p, path, v, limit)
	}
}

func checkVendor(p *problems, v sdk.Vendor) {
	if !v.Code.Valid() {
		p.addf("$input.vendor.code: expected \"iamport\", \"toss.payments\" or \"portone\", got %s", safetext.Describe(string(v.Code), len(sdk.VendorToss)))
	}
	checkText(p, "vendor.store_id", v.StoreID, maxStoreID)
	if !safetext.Token(v.UID, maxVendorUID, vendorUIDExtra) {
		p.addf("$input.vendor.uid: expected 1 to %d ASCII letters, digits or any of %s, got %s", maxVendorUID, vendorUIDExtra, safetext.DescribeToken(v.UID, maxVendorUID, vendorUIDExtra))
	}
}

func checkSource(p *problems, path string, s sdk.Source) {
	checkText(p, path+".schema", s.Schema, maxSourceName)
	checkText(p, path+".table", s.Table, maxSourceName)
	checkUUID(p, path+".id", s.ID)
}

func checkPrice(p *problems, path string, v int64) {
	if v < 0 {
		p.addf("$input.%s: expected a number ≥ 0, got a negative number", path)
	}
}

// checkWebhookURL requires an absolute http(s) URL that fits the column.
func checkWebhookURL(p *problems, v string) {
	u, err := url.Parse(v)
	if !safetext.Valid(v, maxWebhookURL) || err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		p.addf("$input.webhook_url: expected an http(s) URL of at most %d characters, got %s", maxWebhookURL, safetext.Describe(v, maxWebhookURL))
	}
}

func validateHistoryCreate(in sdk.HistoryCreate) error {
	var p problems
	checkVendor(&p, in.Vendor)
	checkSource(&p, "source", in.Source)
	checkPrice(&p, "price", in.Price)
	checkText(&p, "password", in.Password, maxPassword)
	checkWebhookURL(&p, in.WebhookURL)
	return p.err()
}

// sign says what a refused price is without quoting it.
func sign(v int64) string {
	if v == 0 {
		return "0"
	}
	return "a negative number"
}

func validateCancel(in sdk.CancelCreate) error {
	var p problems
	checkSource(&p, "source", in.Source)
	checkText(&p, "password", in.Password, maxPassword)
	if in.Price <= 0 {
		p.addf("$input.price: expected a number > 0 (the amount to refund), got %s", sign(in.Price))
	}
	checkText(&p, "reason", in.Reason, maxReason)
	if a := in.Account; a != nil {
		checkText(&p, "account.bank", a.Bank, maxBank)
		checkText(&p, "account.account", a.Account, maxAccount)
		checkText(&p, "account.holder", a.Holder, maxHolder)
		checkOptionalText(&p, "account.mobile", a.Mobile, maxMobile)
	}
	return p.err()
}

func validateReservationCreate(in sdk.ReservationCreate) error {
	var p problems
	checkVendor(&p, in.Vendor)
	checkSource(&p, "source", in.Source)
	checkText(&p, "title", in.Title, maxTitle)
	checkText(&p, "password", in.Password, maxPassword)
	return p.err()
}

func validateAccessor(in sdk.Accessor) error {
	var p problems
	checkSource(&p, "", in.Source)
	checkText(&p, "password", in.Password, maxPassword)
	// The accessor's source fields sit at the top level.
	for i := range p {
		p[i] = strings.Replace(p[i], "$input..", "$input.", 1)
	}
	return p.err()
}

func validatePassword(in sdk.Password) error {
	var p problems
	checkText(&p, "password", in.Password, maxPassword)
	return p.err()
}

// idParam reads and checks the :id path segment: a UUID in the canonical
// form only, so that PostgreSQL's uuid type never sees another. It is
// returned in lower case, as both databases store ids, so that an
// upper-case id finds its record on SQLite too. A refusal names the path
// id and what is wrong with it, not the id.
func idParam(c *gin.Context) (string, error) {
	id := c.Param("id")
	if !safetext.CanonicalUUID(id) {
		return "", errorf(http.StatusBadRequest, "Invalid path parameter: id: %s, got %s", expectUUID, describeUUID(id))
	}
	return strings.ToLower(id), nil
}
