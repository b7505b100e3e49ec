package updater

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"strings"
	"time"
)

// DefaultCallTimeout bounds a short verb (status, members, register).
const DefaultCallTimeout = 10 * time.Second

// maxAnswer bounds a non-streamed answer.
const maxAnswer = 4 << 20

// maxEventLine bounds one line of the update stream.
const maxEventLine = 1 << 20

// Client sends signed requests to an updater agent: `paymentctl update`
// and `monitor` use it against the master, the master against each
// instance, a slave to register. It is safe for concurrent use.
type Client struct {
	base   string // http://host:port
	signer *Signer
	http   *http.Client
}

// ClientOptions configures NewClient.
type ClientOptions struct {
	// Now reads the clock for the timestamps; nil means time.Now.
	Now func() time.Time
	// HTTPClient sends the requests; nil means a client of its own that
	// opens a new connection for every request (after a handoff, a
	// kept-alive connection would still reach the old process) and has no
	// overall timeout (calls are bounded by their contexts).
	HTTPClient *http.Client
}

// NewClient returns a Client of the agent at addr (host:port), signing with
// key (from DeriveKey).
func NewClient(addr string, key []byte, opts ClientOptions) (*Client, error) {
	if _, _, err := net.SplitHostPort(addr); err != nil {
		return nil, fmt.Errorf("updater address %q: %w", addr, err)
	}
	hc := opts.HTTPClient
	if hc == nil {
		hc = &http.Client{Transport: &http.Transport{DisableKeepAlives: true, Proxy: nil}}
	}
	return &Client{base: "http://" + addr, signer: NewSigner(key, opts.Now), http: hc}, nil
}

// Addr returns the agent's host:port.
func (c *Client) Addr() string { return strings.TrimPrefix(c.base, "http://") }

// Update asks the master for a rollout and calls onEvent for every event
// as it arrives (onEvent may be nil). It returns the rollout's Result, also
// when the rollout failed (Result.OK false); an error when the master
// refused (*BusyError while another update runs), could not be reached, or
// the stream ended without a result.
func (c *Client) Update(ctx context.Context, req UpdateRequest, onEvent func(Event)) (*Result, error) {
	resp, err := c.send(ctx, http.MethodPost, pathUpdate, req)
	if err != nil {
		return nil, err
	}
	defer resp.Body.Close()
	if resp.StatusCode == http.StatusConflict {
		var busy busyAnswer
		if err := json.NewDecoder(io.LimitReader(resp.Body, maxAnswer)).Decode(&busy); err != nil {
			return nil, fmt.Errorf("update: master answered 409: %w", err)
		}
		return nil, &BusyError{Holder: busy.Holder}
	}
	if resp.StatusCode != http.StatusOK {
		return nil, answerError(resp)
	}
	sc := bufio.NewScanner(resp.Body)
	sc.Buffer(make([]byte, 0, 64<<10), maxEventLine)
	for sc.Scan() {
		var ev Event
		if err := json.Unmarshal(sc.Bytes(), &ev); err != nil {
			return nil, fmt.Errorf("update: bad event from the master: %w", err)
		}
		if onEvent != nil {
			onEvent(ev)
		}
		if ev.Result != nil {
			return ev.Result, nil
		}
	}
	if err := sc.Err(); err != nil {
		return nil, fmt.Errorf("update: progress stream broken: %w", err)
	}
	return nil, errors.New("update: the master closed the progress stream without a result (see its log)")
}

// Members returns the instances the master knows, itself first.
func (c *Client) Members(ctx context.Context) ([]Member, error) {
	var out []Member
	return out, c.call(ctx, http.MethodGet, pathMembers, nil, &out)
}

// Status returns the master's running or last rollout and its members.
func (c *Client) Status(ctx context.Context) (*MasterStatus, error) {
	var out MasterStatus
	if err := c.call(ctx, http.MethodGet, pathStatus, nil, &out); err != nil {
		return nil, err
	}
	return &out, nil
}

// InstanceStatus returns the status of the agent's own instance.
func (c *Client) InstanceStatus(ctx context.Context) (*InstanceStatus, error) {
	var out InstanceStatus
	if err := c.call(ctx, http.MethodGet, pathInstance, nil, &out); err != nil {
		return nil, err
	}
	return &out, nil
}

// stage asks the instance to fetch, build and verify t.
func (c *Client) stage(ctx context.Context, t Target) (*Staged, error) {
	var out Staged
	if err := c.call(ctx, http.MethodPost, pathInstanceStage, t, &out); err != nil {
		return nil, err
	}
	return &out, nil
}

// update asks the instance to switch to the staged hash and hand off.
func (c *Client) update(ctx context.Context, hash string) error {
	return c.call(ctx, http.MethodPost, pathInstanceUpdate, hashRequest{Hash: hash}, nil)
}

// rollback asks the instance, now running hash, to go back to its
// previous release.
func (c *Client) rollback(ctx context.Context, hash string) error {
	return c.call(ctx, http.MethodPost, pathInstanceRollback, hashRequest{Hash: hash}, nil)
}

// register sends a slave's registration to the master.
func (c *Client) register(ctx context.Context, r registration) (*registered, error) {
	var out registered
	if err := c.call(ctx, http.MethodPost, pathRegister, r, &out); err != nil {
		return nil, err
	}
	return &out, nil
}

// call sends a verb and decodes a 200 answer into out (nil: discard).
func (c *Client) call(ctx context.Context, method, path string, in, out any) error {
	return c.callWithin(ctx, method, path, in, out, maxAnswer)
}

// callWithin is call with an answer of up to limit bytes.
func (c *Client) callWithin(ctx context.Context, method, path string, in, out any, limit int64) error {
	resp, err := c.send(ctx, method, path, in)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return answerError(resp)
	}
	if out == nil {
		_, _ = io.Copy(io.Discard, io.LimitReader(resp.Body, limit))
		return nil
	}
	if err := json.NewDecoder(io.LimitReader(resp.Body, limit)).Decode(out); err != nil {
		return fmt.Errorf("%s %s: decode answer: %w", method, c.base+path, err)
	}
	return nil
}

// send signs and sends a verb with in as its JSON body (nil: none).
func (c *Client) send(ctx context.Context, method, path string, in any) (*http.Response, error) {
	var body []byte
	if in != nil {
		var err error
		if body, err = json.Marshal(in); err != nil {
			return nil, fmt.Errorf("%s %s: %w", method, path, err)
		}
	}
	req, err := http.NewRequestWithContext(ctx, method, c.base+path, bytes.NewReader(body))
	if err != nil {
		return nil, fmt.Errorf("%s %s: %w", method, path, err)
	}
	if in != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	c.signer.Sign(req, body)
	resp, err := c.http.Do(req)
	if err != nil {
		return nil, fmt.Errorf("updater agent at %s: %w", c.Addr(), err)
	}
	return resp, nil
}

// AnswerError is an agent's non-200 answer.
type AnswerError struct {
	Status  int
	Message string
}

// Error returns the agent's message and the status.
func (e *AnswerError) Error() string {
	switch {
	case e.Message == "":
		return fmt.Sprintf("updater agent answered %d %s", e.Status, http.StatusText(e.Status))
	case e.Status == http.StatusInternalServerError:
		return e.Message // the verb failed; the message says why
	default:
		return fmt.Sprintf("%s (%d %s)", e.Message, e.Status, http.StatusText(e.Status))
	}
}

// answerError reads an error answer.
func answerError(resp *http.Response) error {
	raw, _ := io.ReadAll(io.LimitReader(resp.Body, maxAnswer))
	var a errorAnswer
	msg := strings.TrimSpace(string(raw))
	if json.Unmarshal(raw, &a) == nil && a.Error != "" {
		msg = a.Error
	}
	return &AnswerError{Status: resp.StatusCode, Message: msg}
}
