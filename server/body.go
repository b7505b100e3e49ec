package server

import (
	"bytes"
	"encoding/json"
	"errors"
	"io"
	"mime"
	"net/http"
	"strings"
	"sync"
	"unicode/utf8"

	"github.com/gin-gonic/gin"

	"github.com/paymentctl/paymentctl/wirecrypt"
)

// maxBody bounds every request body; payment requests are a few hundred
// bytes.
const maxBody = 1 << 20

// encryptedBody is the wire protocol as one middleware: a request body
// must be encrypted, in the original's AES-CBC format (text/plain, the
// default) or in the authenticated AES-256-GCM one
// (wirecrypt.GCMContentType), and is replaced by its JSON plaintext; a
// successful response body is encrypted in the request's format (for a
// request without a body, GCM when its Accept header names the GCM type).
// Errors stay plain JSON, as the original's SDK expects. Handlers only
// ever see and write JSON.
//
// A body that does not decrypt, whatever the reason, or whose plaintext
// is not UTF-8 JSON gets one answer, errUnreadableBody, after the same
// work: told apart, they would make the CBC format a padding oracle.
// Such bodies are counted per client by th, which refuses a client that
// sent too many before decrypting anything more of it.
//
// The keys are those of the request's service (authenticate), def's when
// it has none.
func encryptedBody(def *tenant, th *throttling) gin.HandlerFunc {
	// Answers are held and sealed in reused buffers: a read's answer is
	// ~1.5 KB of JSON and ~2 KB of base64, garbage on every request
	// otherwise.
	writers := sync.Pool{New: func() any { return new(bufferedWriter) }}
	return func(ctx *gin.Context) {
		tn := tenantOf(ctx, def)
		cbc, gcm := tn.cbc, tn.gcm
		format := responseFormat(ctx.Request, cbc, gcm)
		if tn.gcmOnly {
			// The service takes and answers the authenticated format only.
			format = gcmFormat{gcm}
		}
		if hasBody(ctx.Request) {
			mt, _, _ := mime.ParseMediaType(ctx.GetHeader("Content-Type"))
			if tn.gcmOnly && mt != wirecrypt.GCMContentType {
				ctx.Error(errorf(http.StatusBadRequest, "Request body type is not %q: this service takes the authenticated format only (encryption.format gcm).", wirecrypt.GCMContentType))
				ctx.Abort()
				return
			}
			format = requestFormat(mt, cbc, gcm)
			if format == nil {
				ctx.Error(errorf(http.StatusBadRequest, "Request body type is not \"text/plain\"."))
				ctx.Abort()
				return
			}
			if !th.allowBody(ctx) {
				return
			}
			raw, err := io.ReadAll(http.MaxBytesReader(ctx.Writer, ctx.Request.Body, maxBody))
			if err != nil {
				ctx.Error(errorf(http.StatusRequestEntityTooLarge, "Request body is larger than %d bytes.", maxBody))
				ctx.Abort()
				return
			}
			plain, ok := format.open(raw)
			// Both checks run whatever the first found.
			wf := wellFormed(plain)
			if !ok || !wf {
				th.failedBody(ctx)
				ctx.Error(errUnreadableBody(ok, wf))
				ctx.Abort()
				return
			}
			ctx.Request.Body = io.NopCloser(bytes.NewReader(plain))
			ctx.Request.ContentLength = int64(len(plain))
			ctx.Request.Header.Set("Content-Type", "application/json")
		}

		orig := ctx.Writer
		w := writers.Get().(*bufferedWriter)
		w.ResponseWriter = orig
		ctx.Writer = w
		// Restore the real writer even when a handler panics, so the
		// recovery's error reaches the client (w is then not reused).
		defer func() { ctx.Writer = orig }()
		ctx.Next()
		ctx.Writer = orig
		w.flush(format)
		if w.reset() {
			writers.Put(w)
		}
	}
}

// errUnreadableBody is the one answer to a request body that cannot be
// used: not base64, not whole blocks, bad padding, a GCM tag that does not
// match, or a plaintext that is not UTF-8 JSON. The message is the
// original's for a failed decryption; the cause goes to the log only.
func errUnreadableBody(decrypted, wellFormed bool) *HTTPError {
	cause := errors.New("the body does not decrypt")
	if decrypted && !wellFormed {
		cause = errors.New("the decrypted body is not UTF-8 JSON")
	}
	return &HTTPError{Status: http.StatusBadRequest, Message: "Failed to decrypt the request body.", Err: cause}
}

// wellFormed reports whether plain is UTF-8 JSON, running both checks
// whatever the first finds.
func wellFormed(plain []byte) bool {
	text := utf8.Valid(plain)
	valid := json.Valid(plain)
	return text && valid
}

// bodyFormat is one of the encrypted body formats.
type bodyFormat interface {
	// open decrypts a request body with the same work whatever is wrong
	// with it; plain is garbage when ok is false.
	open(text []byte) (plain []byte, ok bool)
	// seal appends the encryption of a response body to dst.
	seal(dst, plain []byte) []byte
	// contentType is the media type of a sealed body.
	contentType() string
}

// requestFormat returns the format a request body of media type mt is in,
// or nil for a type the API does not take.
func requestFormat(mt string, cbc *wirecrypt.Cipher, gcm *wirecrypt.GCM) bodyFormat {
	switch {
	case mt == wirecrypt.ContentType:
		return cbcFormat{cbc}
	case mt == wirecrypt.GCMContentType && gcm != nil:
		return gcmFormat{gcm}
	}
	return nil
}

// responseFormat is the format of the answer to a request without a body:
// GCM when its Accept header names the GCM media type, CBC otherwise.
func responseFormat(r *http.Request, cbc *wirecrypt.Cipher, gcm *wirecrypt.GCM) bodyFormat {
	if gcm != nil {
		for _, v := range r.Header.Values("Accept") {
			for _, part := range strings.Split(v, ",") {
				if mt, _, _ := mime.ParseMediaType(part); mt == wirecrypt.GCMContentType {
					return gcmFormat{gcm}
				}
			}
		}
	}
	return cbcFormat{cbc}
}

// cbcFormat is the original's AES-CBC format.
type cbcFormat struct{ c *wirecrypt.Cipher }

func (f cbcFormat) open(text []byte) ([]byte, bool) { return f.c.DecryptUniform(text) }
func (f cbcFormat) seal(dst, plain []byte) []byte   { return f.c.AppendEncrypt(dst, plain) }
func (f cbcFormat) contentType() string             { return wirecrypt.ContentType + "; charset=utf-8" }

// gcmFormat is the authenticated AES-256-GCM format. A body that does not
// authenticate releases no plaintext, so there is nothing for timing to
// reveal; the JSON check then runs on the text instead.
type gcmFormat struct{ g *wirecrypt.GCM }

func (f gcmFormat) open(text []byte) ([]byte, bool) {
	plain, err := f.g.Decrypt(text, wirecrypt.Request)
	if err != nil {
		return text, false
	}
	return plain, true
}
func (f gcmFormat) seal(dst, plain []byte) []byte {
	return append(dst, f.g.Encrypt(plain, wirecrypt.Response)...)
}
func (f gcmFormat) contentType() string { return wirecrypt.GCMContentType }

// hasBody reports whether the request carries a body to decrypt.
func hasBody(r *http.Request) bool {
	return r.Body != nil && r.Body != http.NoBody && r.ContentLength != 0
}

// bufferedWriter holds a handler's response so it can be encrypted as a
// whole once the handler is done.
type bufferedWriter struct {
	gin.ResponseWriter
	buf    bytes.Buffer
	status int
	sealed []byte // the encrypted body, kept for the next request
}

// maxKeptBuffer bounds the buffers a bufferedWriter keeps for reuse, so
// that one large answer does not stay in memory.
const maxKeptBuffer = 64 << 10

// reset clears w for another request and reports whether it is worth
// keeping (its buffers are not too large).
func (w *bufferedWriter) reset() bool {
	w.ResponseWriter, w.status = nil, 0
	w.buf.Reset()
	w.sealed = w.sealed[:0]
	return w.buf.Cap() <= maxKeptBuffer && cap(w.sealed) <= maxKeptBuffer
}

// AvailableBuffer returns an empty buffer with the held body's spare
// capacity, for an encoder to append to before Write (bytes.Buffer's
// idiom).
func (w *bufferedWriter) AvailableBuffer() []byte { return w.buf.AvailableBuffer() }

func (w *bufferedWriter) WriteHeader(code int) { w.status = code }
func (w *bufferedWriter) WriteHeaderNow()      {}
func (w *bufferedWriter) Write(b []byte) (int, error) {
	if w.status == 0 {
		w.status = http.StatusOK
	}
	return w.buf.Write(b)
}
func (w *bufferedWriter) WriteString(s string) (int, error) { return w.Write([]byte(s)) }
func (w *bufferedWriter) Status() int {
	if w.status == 0 {
		return w.ResponseWriter.Status()
	}
	return w.status
}
func (w *bufferedWriter) Size() int     { return w.buf.Len() }
func (w *bufferedWriter) Written() bool { return w.status != 0 }

// flush sends the held response: encrypted in format on success, as it
// is otherwise. An empty successful body stays empty, as the original
// sends for void routes.
func (w *bufferedWriter) flush(format bodyFormat) {
	out := w.ResponseWriter
	status := w.Status()
	if w.status == 0 {
		return // nothing written; the error mapper writes after us
	}
	body := w.buf.Bytes()
	if status >= 200 && status < 300 && len(body) > 0 {
		w.sealed = format.seal(w.sealed[:0], body)
		body = w.sealed
		out.Header().Set("Content-Type", format.contentType())
	}
	out.Header().Del("Content-Length")
	out.WriteHeader(status)
	out.Write(body)
}
