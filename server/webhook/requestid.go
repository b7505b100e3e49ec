package webhook

import (
	"context"
	"encoding/json"

	"github.com/riverqueue/river"
	"github.com/riverqueue/river/rivertype"

	"github.com/paymentctl/paymentctl/server/requestid"
)

// requestIDMiddleware carries the ID of the API request that enqueued a
// job (requestid.FromContext) in the job's metadata, and puts it back in
// the context its worker runs with, so that what the job logs (a
// delivery's outcome) carries the ID of the request that caused it.
type requestIDMiddleware struct {
	river.MiddlewareDefaults
}

// InsertMany adds the request ID of ctx to each job's metadata.
func (requestIDMiddleware) InsertMany(ctx context.Context, params []*rivertype.JobInsertParams,
	doInner func(context.Context) ([]*rivertype.JobInsertResult, error)) ([]*rivertype.JobInsertResult, error) {
	if id := requestid.FromContext(ctx); id != "" {
		for _, p := range params {
			p.Metadata = withRequestID(p.Metadata, id)
		}
	}
	return doInner(ctx)
}

// Work runs the job with the request ID of its metadata in ctx.
func (requestIDMiddleware) Work(ctx context.Context, job *rivertype.JobRow, doInner func(context.Context) error) error {
	if id := jobRequestID(job.Metadata); id != "" {
		ctx = requestid.NewContext(ctx, id)
	}
	return doInner(ctx)
}

// withRequestID sets requestid.Key in a job's metadata, a JSON object
// that River may use too.
func withRequestID(metadata []byte, id string) []byte {
	m := map[string]json.RawMessage{}
	if len(metadata) > 0 {
		if err := json.Unmarshal(metadata, &m); err != nil {
			return metadata // not an object: leave River's metadata alone
		}
	}
	m[requestid.Key], _ = json.Marshal(id)
	out, err := json.Marshal(m)
	if err != nil {
		return metadata
	}
	return out
}

// jobRequestID reads requestid.Key from a job's metadata; "" when there
// is none or it is not a valid ID.
func jobRequestID(metadata []byte) string {
	var m struct {
		ID string `json:"request_id"`
	}
	if json.Unmarshal(metadata, &m) != nil || !requestid.Valid(m.ID) {
		return ""
	}
	return m.ID
}
