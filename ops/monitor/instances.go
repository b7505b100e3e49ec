package monitor

import (
	"context"
	"net/url"
	"strings"
)

// Instance is one paymentctl server to monitor.
type Instance struct {
	// Name identifies the instance in the report and across refreshes.
	Name string
	// APIURL is the base URL of its payment API, e.g.
	// http://127.0.0.1:37821.
	APIURL string
}

// Instances lists the instances to monitor. It is asked again on every
// refresh, so a list that changes (instances joining or leaving the
// updater master) is followed.
type Instances interface {
	Instances(ctx context.Context) ([]Instance, error)
}

// StaticInstances is a fixed list of instances.
type StaticInstances []Instance

// Static returns the instances at the given API URLs, each named after
// its URL's host and path, or after the whole URL when that name is taken
// (http and https on one host). A URL given twice is listed once.
func Static(urls ...string) StaticInstances {
	var list StaticInstances
	seen := make(map[string]bool, len(urls))
	names := make(map[string]bool, len(urls))
	for _, u := range urls {
		if seen[u] {
			continue
		}
		seen[u] = true
		name := nameOf(u)
		if names[name] {
			name = u
		}
		names[name] = true
		list = append(list, Instance{Name: name, APIURL: u})
	}
	return list
}

// Instances returns the list.
func (s StaticInstances) Instances(context.Context) ([]Instance, error) {
	return append([]Instance(nil), s...), nil
}

// nameOf names an instance after its URL's host and path, or after the
// text as given when it is not a URL with a host.
func nameOf(raw string) string {
	u, err := url.Parse(raw)
	if err != nil || u.Host == "" {
		return raw
	}
	return u.Host + strings.TrimRight(u.Path, "/")
}
