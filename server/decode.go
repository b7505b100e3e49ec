package server

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strings"

	"github.com/gin-gonic/gin"
	"github.com/google/uuid"

	"github.com/paymentctl/paymentctl/sdk"
)

// problems collects validation failures in typia's style
// ("$input.source.id: expected a UUID, got \"x\""), so a client sees every
// mistake at once.
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
// given top-level keys; extra keys are tolerated as the original does.
func decode(c *gin.Context, v any, required ...string) error {
	raw, err := io.ReadAll(http.MaxBytesReader(c.Writer, c.Request.Body, maxBody))
	if err != nil {
		return errorf(http.StatusRequestEntityTooLarge, "Request body is larger than %d bytes.", maxBody)
	}
	var keys map[string]json.RawMessage
	if err := json.Unmarshal(raw, &keys); err != nil {
		return &HTTPError{Status: http.StatusBadRequest, Message: "Request body is not a JSON object.", Err: err}
	}
	var p problems
	for _, k := range required {
		if _, ok := keys[k]; !ok {
			p.addf("$input.%s: required", k)
		}
	}
	if err := p.err(); err != nil {
		return err
	}
	if err := json.Unmarshal(raw, v); err != nil {
		var te *json.UnmarshalTypeError
		if errors.As(err, &te) {
			return errorf(http.StatusBadRequest, "Invalid request body: $input.%s: expected %s, got a JSON %s", te.Field, wantType(te), te.Value)
		}
		return &HTTPError{Status: http.StatusBadRequest, Message: "Invalid request body.", Err: err}
	}
	return nil
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

func checkUUID(p *problems, path, v string) {
	if uuid.Validate(v) != nil {
		p.addf("$input.%s: expected a UUID, got %q", path, v)
	}
}

func checkText(p *problems, path, v string) {
	if strings.TrimSpace(v) == "" {
		p.addf("$input.%s: expected a non-empty string", path)
	}
}

func checkVendor(p *problems, v sdk.Vendor) {
	if !v.Code.Valid() {
		p.addf("$input.vendor.code: expected \"iamport\" or \"toss.payments\", got %q", v.Code)
	}
	checkText(p, "vendor.store_id", v.StoreID)
	checkText(p, "vendor.uid", v.UID)
}

func checkSource(p *problems, path string, s sdk.Source) {
	checkText(p, path+".schema", s.Schema)
	checkText(p, path+".table", s.Table)
	checkUUID(p, path+".id", s.ID)
}

func checkPrice(p *problems, path string, v int64) {
	if v < 0 {
		p.addf("$input.%s: expected a number ≥ 0, got %d", path, v)
	}
}

// checkWebhookURL requires an absolute http(s) URL that fits the column.
func checkWebhookURL(p *problems, v string) {
	u, err := url.Parse(v)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" || len(v) > 1024 {
		p.addf("$input.webhook_url: expected an http(s) URL of at most 1024 characters, got %q", v)
	}
}

func validateHistoryCreate(in sdk.HistoryCreate) error {
	var p problems
	checkVendor(&p, in.Vendor)
	checkSource(&p, "source", in.Source)
	checkPrice(&p, "price", in.Price)
	checkText(&p, "password", in.Password)
	checkWebhookURL(&p, in.WebhookURL)
	return p.err()
}

func validateCancel(in sdk.CancelCreate) error {
	var p problems
	checkSource(&p, "source", in.Source)
	checkText(&p, "password", in.Password)
	if in.Price <= 0 {
		p.addf("$input.price: expected a number > 0 (the amount to refund), got %d", in.Price)
	}
	checkText(&p, "reason", in.Reason)
	if a := in.Account; a != nil {
		checkText(&p, "account.bank", a.Bank)
		checkText(&p, "account.account", a.Account)
		checkText(&p, "account.holder", a.Holder)
	}
	return p.err()
}

func validateReservationCreate(in sdk.ReservationCreate) error {
	var p problems
	checkVendor(&p, in.Vendor)
	checkSource(&p, "source", in.Source)
	checkText(&p, "title", in.Title)
	checkText(&p, "password", in.Password)
	return p.err()
}

func validateAccessor(in sdk.Accessor) error {
	var p problems
	checkSource(&p, "", in.Source)
	checkText(&p, "password", in.Password)
	// The accessor's source fields sit at the top level.
	for i := range p {
		p[i] = strings.Replace(p[i], "$input..", "$input.", 1)
	}
	return p.err()
}

// idParam reads and checks the :id path segment.
func idParam(c *gin.Context) (string, error) {
	id := c.Param("id")
	if uuid.Validate(id) != nil {
		return "", errorf(http.StatusBadRequest, "Invalid path parameter: id: expected a UUID, got %q", id)
	}
	return id, nil
}
