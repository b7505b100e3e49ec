// Package seal encrypts stored payment data and hashes per-record passwords.
//
// # Threat model
//
// The database holds the gateways' raw payment, billing-key and cancel
// objects. Sealing protects them against readers of the database alone: a
// dump, a backup, a replica, or the read-only human account. It also makes
// copying a value into another table or row detectable, because each value is
// bound to its purpose and, optionally, to its record id. It does not protect
// against whoever holds both the keys and the database: the server itself, or
// an operator with its environment, reads everything, as in the original.
//
// The same reasoning decides the record passwords. The original stored them
// as bcrypt hashes (bcryptjs, cost 10, "$2a$"), which costs about 60 ms of CPU
// on every read. A slow hash only helps against someone who has the hashes but
// not the server's keys, and such a reader gets nothing from the sealed data
// either; the passwords are machine-chosen tokens of the calling service, not
// human passwords. So new hashes are HMAC-SHA256 under a server secret with a
// random salt: verification takes microseconds, and a stolen hash cannot be
// attacked offline without that secret. bcrypt hashes imported from the
// original are still accepted (see [Hasher.NeedsRehash] to upgrade them).
//
// # Sealed values
//
// A sealed value is ASCII text for a TEXT column:
//
//	v1.<key id>.<base64url without padding of nonce(12) | ciphertext | tag(16)>
//
// The cipher is AES-256-GCM with a random 96-bit nonce per value. A key id is
// 1 to 32 characters from [A-Za-z0-9_-]. The GCM additional data is
//
//	v1.<key id>.<purpose> NUL <caller's aad>
//
// so the header cannot be edited and a value sealed for one purpose (table) or
// record id does not open for another. Use the record's id as aad where the id
// is known before the value is written.
//
// # Record passwords
//
// [Hasher.Hash] writes
//
//	hmac-sha256$<key id>$<base64url salt(16)>$<base64url HMAC-SHA256(key, salt | password)>
//
// without base64 padding. [Hasher.Verify] accepts these and the original's
// bcrypt hashes; the original (all versions, through bcryptjs) stored nothing
// else.
//
// # Keys and rotation
//
// Each purpose ([PurposeHistory], [PurposeReservation], [PurposeCancel],
// [PurposeWebhook], [PurposePassword], [PurposeAudit]) has its own keys. [DeriveKey] turns a
// configured master string of any length into a 32-byte key with HKDF-SHA256,
// using the purpose as context, and names the key by a short hash of it; a
// master string is never used as a key directly. A [Keyring] seals with its
// active key and opens values of any key it holds, so rotating means: add a new
// active key, keep the old ones, reseal values for which [Keyring.Stale] reports
// true, then drop the old keys.
//
// The original's own at-rest format (AES-CBC with a static IV per table, see
// package [wirecrypt]) can be read through [Keyring.WithLegacy] while importing
// its database; such values carry no key id and no authentication.
package seal
