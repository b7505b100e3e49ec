package server

import (
	"net/http"

	"github.com/gin-gonic/gin"

	"github.com/paymentctl/paymentctl/openapi"
)

// openAPIDocument serves the OpenAPI description of this API (package
// openapi), plain JSON: it describes the encryption, it is not subject to
// it.
func openAPIDocument() gin.HandlerFunc {
	doc := openapi.Document()
	return func(c *gin.Context) { c.Data(http.StatusOK, "application/json", doc) }
}
