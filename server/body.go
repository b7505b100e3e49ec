package server

import (
	"bytes"
	"io"
	"mime"
	"net/http"

	"github.com/gin-gonic/gin"

	"github.com/paymentctl/paymentctl/wirecrypt"
)

// maxBody bounds every request body; payment requests are a few hundred
// bytes.
const maxBody = 1 << 20

// encryptedBody is the original's wire protocol as one middleware: the
// request body must be text/plain AES-CBC + base64 and is replaced by its
// JSON plaintext; a successful response body is encrypted the same way
// and sent as text/plain. Errors stay plain JSON, as the original's SDK
// expects. Handlers only ever see and write JSON.
func encryptedBody(c *wirecrypt.Cipher) gin.HandlerFunc {
	return func(ctx *gin.Context) {
		if hasBody(ctx.Request) {
			mt, _, _ := mime.ParseMediaType(ctx.GetHeader("Content-Type"))
			if mt != wirecrypt.ContentType {
				ctx.Error(errorf(http.StatusBadRequest, "Request body type is not \"text/plain\"."))
				ctx.Abort()
				return
			}
			raw, err := io.ReadAll(http.MaxBytesReader(ctx.Writer, ctx.Request.Body, maxBody))
			if err != nil {
				ctx.Error(errorf(http.StatusRequestEntityTooLarge, "Request body is larger than %d bytes.", maxBody))
				ctx.Abort()
				return
			}
			plain, err := c.Decrypt(raw)
			if err != nil {
				ctx.Error(&HTTPError{Status: http.StatusBadRequest, Message: "Failed to decrypt the request body.", Err: err})
				ctx.Abort()
				return
			}
			ctx.Request.Body = io.NopCloser(bytes.NewReader(plain))
			ctx.Request.ContentLength = int64(len(plain))
			ctx.Request.Header.Set("Content-Type", "application/json")
		}

		w := &bufferedWriter{ResponseWriter: ctx.Writer}
		ctx.Writer = w
		// Restore the real writer even when a handler panics, so the
		// recovery's error reaches the client.
		defer func() { ctx.Writer = w.ResponseWriter }()
		ctx.Next()
		ctx.Writer = w.ResponseWriter
		w.flush(c)
	}
}

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
}

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

// flush sends the held response: encrypted as text/plain on success,
// as it is otherwise. An empty successful body stays empty, as the
// original sends for void routes.
func (w *bufferedWriter) flush(c *wirecrypt.Cipher) {
	out := w.ResponseWriter
	status := w.Status()
	if w.status == 0 {
		return // nothing written; the error mapper writes after us
	}
	body := w.buf.Bytes()
	if status >= 200 && status < 300 && len(body) > 0 {
		body = c.Encrypt(body)
		out.Header().Set("Content-Type", wirecrypt.ContentType+"; charset=utf-8")
	}
	out.Header().Del("Content-Length")
	out.WriteHeader(status)
	out.Write(body)
}
