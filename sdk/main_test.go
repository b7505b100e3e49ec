package sdk_test

import (
	"os"
	"testing"

	"github.com/gin-gonic/gin"
)

// TestMain keeps gin's debug banner, which the examples' embedded servers
// would print to the process's stdout, out of the test output.
func TestMain(m *testing.M) {
	gin.SetMode(gin.ReleaseMode)
	os.Exit(m.Run())
}
