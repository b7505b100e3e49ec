package main

import (
	"bufio"
	"context"
	"encoding/json"
	"fmt"
	"math/rand/v2"
	"net"
	"net/http"
	"os"
	"strings"
	"sync"
	"time"

	"github.com/google/uuid"

	fakeiamport "github.com/paymentctl/paymentctl/fakepg/iamport"
	"github.com/paymentctl/paymentctl/gateway/iamport"
	"github.com/paymentctl/paymentctl/sdk"
)

// hostile are values a field is replaced with by the fuzzer.
func hostile(r *rand.Rand) any {
	values := []any{
		"\x00", "a\x00b", "\u0007bell", "tab\there", "line\nbreak", "\u202eright-to-left",
		strings.Repeat("x", 300), strings.Repeat("가", 2000), strings.Repeat("y", 100_000),
		"urn:uuid:" + uuid.NewString(), "{" + uuid.NewString() + "}", strings.ReplaceAll(uuid.NewString(), "-", ""),
		"", " ", "null", "../../etc/passwd", "' OR 1=1 --", "http://169.254.169.254/latest/meta-data",
		-1, 0, 1.5, 1e300, 99999999999999999, true, nil, []any{1, "a"}, map[string]any{"$gt": ""},
	}
	return values[r.IntN(len(values))]
}

// routeCase is a route the fuzzer sends to, with a valid body to spoil.
type routeCase struct {
	method, path string
	body         map[string]any
}

func fuzzRoutes() []routeCase {
	src := map[string]any{"schema": "shop", "table": "orders", "id": uuid.NewString()}
	vendor := map[string]any{"code": "iamport", "store_id": "store", "uid": "imp_123456789012"}
	return []routeCase{
		{"POST", "/payments/histories", map[string]any{"vendor": vendor, "source": src, "price": 1000, "password": "pw", "webhook_url": "https://example.com/hook"}},
		{"PATCH", "/payments/histories/get", map[string]any{"source": src, "password": "pw"}},
		{"PATCH", "/payments/histories/" + uuid.NewString(), map[string]any{"password": "pw"}},
		{"PUT", "/payments/histories/cancel", map[string]any{"source": src, "password": "pw", "price": 100, "reason": "r"}},
		{"POST", "/payments/reservations", map[string]any{"vendor": vendor, "source": src, "title": "t", "password": "pw"}},
		{"PATCH", "/payments/reservations/get", map[string]any{"source": src, "password": "pw"}},
		{"PATCH", "/payments/reservations/" + uuid.NewString(), map[string]any{"password": "pw"}},
	}
}

// spoil replaces one field of body (possibly nested) with a hostile value,
// or drops it.
func spoil(r *rand.Rand, body map[string]any) map[string]any {
	out := make(map[string]any, len(body))
	for k, v := range body {
		if m, ok := v.(map[string]any); ok {
			c := make(map[string]any, len(m))
			for k2, v2 := range m {
				c[k2] = v2
			}
			out[k] = c
		} else {
			out[k] = v
		}
	}
	keys := make([]string, 0, len(out))
	for k := range out {
		keys = append(keys, k)
	}
	k := keys[r.IntN(len(keys))]
	target := out
	if m, ok := out[k].(map[string]any); ok && r.IntN(2) == 0 {
		target = m
		keys = keys[:0]
		for k2 := range m {
			keys = append(keys, k2)
		}
		k = keys[r.IntN(len(keys))]
	}
	if r.IntN(8) == 0 {
		delete(target, k)
	} else {
		target[k] = hostile(r)
	}
	return out
}

// fuzz sends spoiled bodies to every encrypted route, odd paths and
// methods, and junk to the PG webhook routes. Its bodies all decrypt, so
// the throttle of undecryptable bodies stays out of it (badBodies covers
// that).
func fuzz(_ context.Context, s *server, rep *report, o options) error {
	r := rand.New(rand.NewPCG(1, 2))
	routes := fuzzRoutes()
	rep.statuses = map[int]int{}
	oddPaths := []string{"/payments/histories/urn:uuid:" + uuid.NewString(), "/payments/histories/%00", "/payments/histories/" + strings.Repeat("a", 5000),
		"/payments/%2e%2e/monitors/system", "/payments/histories/{" + uuid.NewString() + "}", "/nope", "/payments/webhooks/unknown"}
	oddMethods := []string{"PROPFIND", "FOO", "DELETE", "TRACE", "OPTIONS", strings.Repeat("M", 40)}
	for i := 0; i < o.requests; i++ {
		var status int
		var what string
		switch r.IntN(10) {
		case 0:
			method, path := oddMethods[r.IntN(len(oddMethods))], oddPaths[r.IntN(len(oddPaths))]
			what = method + " " + path
			status = s.send(nil, method, path, []byte(`{}`), nil)
		case 1:
			rc := routes[r.IntN(len(routes))]
			path := oddPaths[r.IntN(3)]
			what = rc.method + " " + path
			status = s.send(nil, rc.method, path, mustJSON(rc.body), nil)
		case 2:
			body := hookJunk(r)
			ct := "application/json"
			if r.IntN(3) == 0 {
				ct = "application/x-www-form-urlencoded"
			}
			path := []string{"/payments/webhooks/iamport", "/payments/webhooks/toss"}[r.IntN(2)]
			what = "POST " + path + " " + ct + " " + body
			status = s.raw(nil, "POST", path, strings.NewReader(body), ct, nil)
		default:
			rc := routes[r.IntN(len(routes))]
			var header http.Header
			if r.IntN(4) == 0 {
				header = http.Header{"Idempotency-Key": {fmt.Sprint(hostile(r))}}
			}
			body := mustJSON(spoil(r, rc.body))
			what = rc.method + " " + rc.path + " " + string(body)
			status = s.send(nil, rc.method, rc.path, body, header)
		}
		rep.statuses[status]++
		rep.fuzzed++
		if status >= 200 && status < 300 && rep.accepted < 20 {
			rep.accepted++
			fmt.Fprintf(os.Stderr, "abuse: fuzz: %d for %.200q\n", status, what)
		}
	}
	return nil
}

// hookJunk is a body for a PG webhook route: broken JSON, hostile ids,
// oversized bodies.
func hookJunk(r *rand.Rand) string {
	switch r.IntN(6) {
	case 0:
		return `{"imp_uid":"` + fmt.Sprint(hostile(r)) + `","status":"paid"}`
	case 1:
		return "imp_uid=%00&merchant_uid=x&status=paid"
	case 2:
		return `{"eventType":"PAYMENT_STATUS_CHANGED","data":{"paymentKey":"` + fmt.Sprint(hostile(r)) + `"}}`
	case 3:
		return strings.Repeat("{", 70_000)
	case 4:
		return `{"secret":"` + strings.Repeat("s", 200) + `","orderId":"\u0000"}`
	}
	return string(mustJSON(map[string]any{"imp_uid": hostile(r), "merchant_uid": hostile(r), "status": hostile(r)}))
}

func mustJSON(v any) []byte {
	b, err := json.Marshal(v)
	if err != nil {
		return []byte(`{}`)
	}
	return b
}

// forgedHooks sends webhooks for ids no payment has, then a burst for one
// registered payment, and counts the PG calls and the jobs they cost.
func forgedHooks(ctx context.Context, s *server, rep *report, o options) error {
	before := s.settle(2*time.Second, 30*time.Second)
	send := func(body string) int {
		return s.raw(nil, "POST", "/payments/webhooks/iamport", strings.NewReader(body), "application/json", nil)
	}
	var wg sync.WaitGroup
	var mu sync.Mutex
	jobs := make(chan int)
	for w := 0; w < 16; w++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range jobs {
				st := send(fmt.Sprintf(`{"imp_uid":"imp_%012d","merchant_uid":"forged-%d","status":"paid"}`, 100_000_000_000+i, i))
				mu.Lock()
				rep.forgedStatuses[st]++
				mu.Unlock()
			}
		}()
	}
	rep.forgedStatuses = map[int]int{}
	for i := 0; i < o.hooks; i++ {
		jobs <- i
	}
	close(jobs)
	wg.Wait()
	rep.forged = o.hooks
	// Quiet for longer than River's scheduler period (5 s), which a
	// coalesced follow-up job waits for.
	after := s.settle(8*time.Second, 2*time.Minute)
	rep.forgedPGCalls = after - before

	// A burst of webhooks about one registered payment.
	uid, err := s.registerCard(ctx, 5000, "pw-burst")
	if err != nil {
		return err
	}
	before = s.settle(2*time.Second, 30*time.Second)
	body := fmt.Sprintf(`{"imp_uid":%q,"merchant_uid":"x","status":"paid"}`, uid)
	jobs = make(chan int)
	for w := 0; w < 16; w++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for range jobs {
				send(body)
			}
		}()
	}
	for i := 0; i < o.burst; i++ {
		jobs <- i
	}
	close(jobs)
	wg.Wait()
	rep.burst = o.burst
	rep.burstPGCalls = s.settle(8*time.Second, 2*time.Minute) - before
	return nil
}

// registerCard pays by card at the fake Iamport and registers the payment;
// it returns the imp_uid (and keeps the history id for guessing).
func (s *server) registerCard(ctx context.Context, amount int64, password string) (string, error) {
	ic := iamport.New(iamport.Options{BaseURL: s.fakeIamport, Key: fakeiamport.DefaultKey, Secret: fakeiamport.DefaultSecret})
	src := sdk.Source{Schema: "shop", Table: "orders", ID: uuid.NewString()}
	p, err := ic.PayOnetime(ctx, iamport.OnetimeRequest{
		CardFields:  iamport.CardFields{CardNumber: "1234-1234-1234-1234", Expiry: "2028-12", Birth: "880311"},
		OrderFields: iamport.OrderFields{MerchantUID: src.ID, Amount: iamport.Amount(amount), Name: "abuse"},
	})
	if err != nil {
		return "", fmt.Errorf("pay at the fake: %w", err)
	}
	api, err := sdk.New(sdk.Options{BaseURL: s.api, Key: connectionKey, IV: connectionIV})
	if err != nil {
		return "", err
	}
	h, err := api.CreateHistory(ctx, sdk.HistoryCreate{Vendor: sdk.Vendor{Code: sdk.VendorIamport, StoreID: "store", UID: p.ImpUID},
		Source: src, Price: amount, Password: password, WebhookURL: s.api + "/payments/internal/webhook"})
	if err != nil {
		return "", fmt.Errorf("register: %w", err)
	}
	s.lastHistory = h.ID
	return p.ImpUID, nil
}

// guessPasswords guesses one record's password from one address until the
// throttle answers 429, then reads it with the right password from
// another loopback address.
func guessPasswords(ctx context.Context, s *server, rep *report, _ options) error {
	if _, err := s.registerCard(ctx, 7000, "the-right-password"); err != nil {
		return err
	}
	path := "/payments/histories/" + s.lastHistory
	for i := 0; i < 200; i++ {
		st := s.send(nil, "PATCH", path, mustJSON(map[string]string{"password": fmt.Sprintf("guess-%d", i)}), nil)
		if st == http.StatusForbidden {
			rep.guesses403++
			continue
		}
		rep.guessStop = st
		break
	}
	// The same record, the right password, another client address.
	other := &http.Client{Timeout: 30 * time.Second, Transport: &http.Transport{DialContext: (&net.Dialer{
		LocalAddr: &net.TCPAddr{IP: net.ParseIP("127.0.0.2")},
	}).DialContext}}
	rep.otherAddress = s.send(other, "PATCH", path, mustJSON(map[string]string{"password": "the-right-password"}), nil)
	return nil
}

// holdConnections opens idle keep-alive connections and connections that
// trickle a request body, and counts those still open after the server's
// timeouts, while checking that another client is served meanwhile.
func holdConnections(_ context.Context, s *server, rep *report, _ options) error {
	const n = 50
	addr := strings.TrimPrefix(s.api, "http://")
	var conns []net.Conn
	stop := make(chan struct{})
	defer close(stop)
	for i := 0; i < n; i++ {
		c, err := net.Dial("tcp", addr)
		if err != nil {
			return err
		}
		conns = append(conns, c)
		if i%2 == 0 {
			// Idle: one request, then nothing.
			fmt.Fprintf(c, "GET /monitors/health HTTP/1.1\r\nHost: x\r\n\r\n")
			resp, err := http.ReadResponse(bufio.NewReader(c), nil)
			if err == nil {
				resp.Body.Close()
			}
			continue
		}
		// Slow body: a byte a second, never finished.
		fmt.Fprintf(c, "POST /payments/histories HTTP/1.1\r\nHost: x\r\nContent-Type: text/plain\r\nContent-Length: 100000\r\n\r\n")
		go func(c net.Conn) {
			t := time.NewTicker(time.Second)
			defer t.Stop()
			for {
				select {
				case <-stop:
					return
				case <-t.C:
					if _, err := c.Write([]byte("A")); err != nil {
						return
					}
				}
			}
		}(c)
	}
	rep.connsOpened = len(conns)
	time.Sleep(connTimeout / 2)
	rep.servedMeanwhile = s.raw(nil, "GET", "/monitors/health", nil, "", nil)
	time.Sleep(connTimeout + 3*time.Second)
	for _, c := range conns {
		c.SetReadDeadline(time.Now().Add(200 * time.Millisecond))
		buf := make([]byte, 4096)
		open := true
		for {
			_, err := c.Read(buf)
			if err == nil {
				continue // the 408 or the rest of an answer
			}
			if ne, ok := err.(net.Error); ok && ne.Timeout() {
				break // nothing to read and not closed: still held
			}
			open = false
			break
		}
		if open {
			rep.connsHeld++
		}
		c.Close()
	}
	return nil
}

// badBodies sends bodies that do not decrypt and tallies the answers: the
// one generic 400, then the throttle's 429.
func badBodies(_ context.Context, s *server, rep *report, _ options) error {
	rep.badStatuses = map[int]int{}
	bodies := []string{"not base64 at all!", "QUJD", strings.Repeat("A", 64), "////////////////////////////////////////////8="}
	for i := 0; i < 20; i++ {
		st := s.raw(nil, "POST", "/payments/histories", strings.NewReader(bodies[i%len(bodies)]), "text/plain", nil)
		rep.badStatuses[st]++
	}
	return nil
}
