package server

import (
	"crypto/sha256"
	"crypto/subtle"
	"fmt"
	"net/http"
	"strings"

	"github.com/gin-gonic/gin"

	"github.com/paymentctl/paymentctl/config"
	"github.com/paymentctl/paymentctl/server/payment"
	"github.com/paymentctl/paymentctl/wirecrypt"
)

// tenant is one client service as the API sees it: the hashes of its API
// keys and the ciphers of its bodies. The default service (no API key,
// the top-level connection keys) has no hashes and the name "".
type tenant struct {
	name   string
	hashes [][sha256.Size]byte
	cbc    *wirecrypt.Cipher
	gcm    *wirecrypt.GCM
	// gcmOnly refuses the CBC format and answers in GCM whatever the
	// request asks (encryption.format gcm).
	gcmOnly bool
}

// tenants are the services of the configuration (services.list) and the
// default service.
type tenants struct {
	// requireKey refuses requests without an API key.
	requireKey bool
	def        *tenant
	list       []*tenant
}

// newTenants builds the services of cfg; def is the default service's
// ciphers (the top-level connection keys).
func newTenants(cfg *config.Config, cbc *wirecrypt.Cipher, gcm *wirecrypt.GCM) (*tenants, error) {
	t := &tenants{requireKey: cfg.Services.RequireKey, def: &tenant{name: payment.DefaultService, cbc: cbc, gcm: gcm}}
	for _, s := range cfg.Services.List {
		tn := &tenant{name: s.Name, gcmOnly: s.Encryption.GCMOnly()}
		var err error
		if tn.cbc, err = wirecrypt.New(s.Encryption.Key.Reveal(), s.Encryption.IV.Reveal()); err != nil {
			return nil, fmt.Errorf("service %s: body encryption: %w", s.Name, err)
		}
		if tn.gcm, err = wirecrypt.NewGCM(s.Encryption.Key.Reveal()); err != nil {
			return nil, fmt.Errorf("service %s: body encryption: %w", s.Name, err)
		}
		for i, h := range s.APIKeys {
			sum, ok := config.APIKeyHashBytes(h)
			if !ok {
				return nil, fmt.Errorf("service %s: api_keys[%d] is not a sha256: hash", s.Name, i)
			}
			tn.hashes = append(tn.hashes, sum)
		}
		t.list = append(t.list, tn)
	}
	return t, nil
}

// forwarding returns the keys events are forwarded to each configured
// service with (payment.Options.Services).
func forwarding(cfg *config.Config, t *tenants) map[string]payment.ServiceKeys {
	out := make(map[string]payment.ServiceKeys, len(t.list))
	for i, s := range cfg.Services.List {
		out[s.Name] = payment.ServiceKeys{Wire: t.list[i].cbc, WebhookSecret: cfg.ServiceWebhookKey(s)}
	}
	return out
}

// match returns the service one of whose API keys is key, or nil. Every
// configured hash is compared, in constant time, whatever matched before:
// the time taken says nothing about which key, or how much of it, was
// right.
func (t *tenants) match(key string) *tenant {
	sum := sha256.Sum256([]byte(key))
	var found *tenant
	for _, tn := range t.list {
		for _, h := range tn.hashes {
			if subtle.ConstantTimeCompare(sum[:], h[:]) == 1 {
				found = tn
			}
		}
	}
	return found
}

// tenantKey holds the request's *tenant on the gin context.
const tenantKey = "paymentctl.tenant"

// errUnauthorized is the one answer to a request whose API key is
// missing (when required), malformed, unknown or revoked: which of them
// is not told, and the key is never echoed.
func errUnauthorized() *HTTPError {
	return errorf(http.StatusUnauthorized, "Unauthorized: send a valid API key as \"Authorization: Bearer <api key>\".")
}

// authenticate finds the calling service from the Authorization header
// before anything else is done for the request (no body read, no
// database): "Bearer <api key>" of a configured service, or no header for
// the default service unless requireKey. Anything else is 401. The
// service is put on the gin context (its ciphers, for encryptedBody) and
// on the request's context (payment.WithService: what it owns).
func (t *tenants) authenticate(requireKey bool) gin.HandlerFunc {
	return func(c *gin.Context) {
		tn, ok := t.def, !requireKey
		if header := c.GetHeader("Authorization"); header != "" {
			tn, ok = nil, false
			if scheme, key, found := strings.Cut(header, " "); found && strings.EqualFold(scheme, "Bearer") {
				if tn = t.match(strings.TrimSpace(key)); tn != nil {
					ok = true
				}
			}
		}
		if !ok {
			c.Header("WWW-Authenticate", `Bearer realm="paymentctl"`)
			fail(c, errUnauthorized())
			c.Abort()
			return
		}
		c.Set(tenantKey, tn)
		c.Request = c.Request.WithContext(payment.WithService(c.Request.Context(), tn.name))
		c.Next()
	}
}

// tenantOf returns the request's service set by authenticate, or def.
func tenantOf(c *gin.Context, def *tenant) *tenant {
	if v, ok := c.Get(tenantKey); ok {
		if tn, ok := v.(*tenant); ok {
			return tn
		}
	}
	return def
}
