// Package openapi holds the OpenAPI 3.1 description of paymentctl's HTTP
// API: every route, the decrypted request and response bodies, the errors,
// the body encryption and the event forwarded to services as a webhook.
// The server serves it at GET /openapi.json; docs/openapi.json is the same
// file for readers of the repository.
//
// openapi.json in this directory is the canonical copy, edited by hand.
// Tests keep it true to the code: the schemas are compared with the sdk
// types by reflection, the paths with the server's route table, and the
// end-to-end tests validate every answer against it (package
// openapi/openapitest).
package openapi

import _ "embed"

// document is openapi.json, embedded at build time.
//
//go:embed openapi.json
var document []byte

// Document returns the OpenAPI document as JSON: a copy the caller may keep
// or change.
func Document() []byte { return append([]byte(nil), document...) }
