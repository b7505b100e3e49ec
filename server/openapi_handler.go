package server

import (
	"net/http"
	"sync"

	"github.com/gin-gonic/gin"

	"github.com/paymentctl/paymentctl/openapi"
)

// openAPIDocument serves the OpenAPI description of this API (package
// openapi), plain JSON: it describes the encryption, it is not subject to
// it. The document (80 KB) is copied on the first request, not when the
// router is built: an idle server does not hold it.
func openAPIDocument() gin.HandlerFunc {
	doc := sync.OnceValue(openapi.Document)
	return func(c *gin.Context) { c.Data(http.StatusOK, "application/json", doc()) }
}
