package main

import (
	"context"
	"crypto/rand"
	"encoding/base64"
	"errors"
	"flag"
	"fmt"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/gin-gonic/gin"
)

// plainAnswer is what the gin baseline answers: a JSON object about the
// size of a history's fields without its sealed PG data.
type plainAnswer struct {
	ID       string `json:"id"`
	Currency string `json:"currency"`
	Price    int64  `json:"price"`
	Paid     bool   `json:"paid"`
}

// ginPlain runs `gin -addr ADDR`: a bare gin server, release mode, no
// middleware, one route GET /plain answering plainAnswer as JSON. It is
// the machine's baseline for an HTTP exchange: the load run drives it with
// the same wrk as the encrypted read and reports the read's rate as a
// ratio of this one. It serves until interrupted.
func ginPlain(ctx context.Context, args []string) error {
	fs := flag.NewFlagSet("gin", flag.ContinueOnError)
	addr := fs.String("addr", "127.0.0.1:0", "loopback address to listen on")
	if err := fs.Parse(args); err != nil {
		return err
	}
	gin.SetMode(gin.ReleaseMode) // this process serves nothing else
	r := gin.New()
	answer := plainAnswer{ID: "6f2c3b8e-2a4d-4f5e-9c1a-0b7d8e9f1a2b", Currency: "KRW", Price: 20000, Paid: true}
	r.GET("/plain", func(c *gin.Context) { c.JSON(http.StatusOK, answer) })
	ln, err := net.Listen("tcp", *addr)
	if err != nil {
		return err
	}
	fmt.Println("http://" + ln.Addr().String())
	srv := &http.Server{Handler: r, ReadHeaderTimeout: 10 * time.Second}
	go func() {
		<-ctx.Done()
		srv.Close()
	}()
	if err := srv.Serve(ln); !errors.Is(err, http.ErrServerClosed) {
		return err
	}
	return nil
}

// insertScript runs `insert-script -schema S -out DIR`: it writes the
// pgbench script of the PostgreSQL baseline to DIR/insert.sql and prints
// the SQL that creates its table in schema S. The insert is one row a
// transaction: a uuid primary key, a unique text and 2 KB of base64 of
// random bytes, which does not compress, as sealed data does not.
func insertScript(args []string) error {
	fs := flag.NewFlagSet("insert-script", flag.ContinueOnError)
	schema := fs.String("schema", "", "the run's schema")
	out := fs.String("out", "", "directory to write insert.sql to")
	if err := fs.Parse(args); err != nil {
		return err
	}
	if *schema == "" || *out == "" || strings.ContainsAny(*schema, "\"' ;") {
		return errors.New("insert-script: -schema (a plain name) and -out are required")
	}
	raw := make([]byte, 1536)
	if _, err := rand.Read(raw); err != nil {
		return err
	}
	script := fmt.Sprintf("INSERT INTO %s.load_insert_baseline (id, key, body) "+
		"VALUES (gen_random_uuid(), md5(random()::text || clock_timestamp()::text), '%s');\n",
		*schema, base64.StdEncoding.EncodeToString(raw))
	if err := os.WriteFile(filepath.Join(*out, "insert.sql"), []byte(script), 0o644); err != nil {
		return err
	}
	_, err := fmt.Printf("CREATE TABLE %s.load_insert_baseline (id uuid PRIMARY KEY, key text NOT NULL UNIQUE, body text NOT NULL);\n", *schema)
	return err
}
