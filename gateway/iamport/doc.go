// Package iamport holds the wire types of the Iamport (PortOne v1) REST API
// and a Go client for it.
//
// The types follow the published npm SDK iamport-server-api (10.0.0): field
// names, nullability and the union of payment kinds are kept, so the same
// JSON is accepted by the SDK, by the real API at https://api.iamport.kr and
// by the fake in fakepg/iamport. Where the real API and the SDK disagree the
// type carries both spellings and says so (cash_receipt_issue versus
// cash_receipt_issued, customr_addr versus customer_addr).
//
// Money is int64 won: Amount decodes 1000 and 1000.0 alike and refuses
// fractions, so no float ever leaves this package. Times are Unix seconds
// (Timestamp), 0 meaning "not set"; fractional seconds sent by older fakes are
// truncated.
//
// Client wraps the token dance (POST /users/getToken, cached until shortly
// before expired_at, one fetch shared by concurrent callers, one re-fetch on
// 401) and answers every failure that came from Iamport as *Error, which keeps
// the HTTP status and the envelope code so a caller can pass them through.
package iamport
