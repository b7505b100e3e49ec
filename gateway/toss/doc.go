// Package toss holds the wire types of the Toss Payments v1 REST API and a Go
// client for it.
//
// The types follow the published npm SDK toss-payments-server-api (10.0.0):
// field names, nullability and the payment kinds (카드, 가상계좌, 계좌이체,
// 휴대폰, 상품권, plus 간편결제 of the real API) are kept, so the JSON written
// here is accepted by the SDK, by the real API at https://api.tosspayments.com
// and by the fake in fakepg/toss. A few fields that only the real API sends
// (lastTransactionKey, failure, card.issuerCode, virtualAccount.bankCode, the
// cancel's transactionKey, ...) are added with omitempty so that decoding a
// real answer loses nothing the payment server needs; each says so.
//
// The Payment object is one struct rather than the SDK's union: Method tells
// which of Card, VirtualAccount, Transfer, MobilePhone or GiftCertificate is
// set, and the others are JSON null, as the real API sends them.
//
// Money is int64 won (KRW has no minor unit). Dates stay strings as they
// travel (ISO 8601 with +09:00 from the real API, zone-less KST in webhook
// createdAt); ParseTime reads every form, FormatTime writes the real one.
//
// Client sends Basic authentication (base64 of secretKey + ":"), applies a
// per-call timeout and answers every failure that came from Toss as *Error,
// which keeps the HTTP status and Toss's {code, message} so a caller can pass
// them through. Request types whose SDK form carries a discriminator the real
// API does not know (method: "card", the cancel body's paymentKey) are filled
// in by the client, so one call works against both the real API and the
// fakes.
package toss
