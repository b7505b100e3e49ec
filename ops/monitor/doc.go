// Package monitor is the logic of `paymentctl monitor`: it reads every
// instance's GET /monitors/system and GET /monitors/performance, turns two
// samples into the figures people watch (CPU % over the last interval, RSS,
// goroutines, requests, errors, uptime, restarts) and renders them as a
// table or as JSON, once or refreshed like `pm2 monit`.
//
// Which instances exist is asked of an Instances source on every refresh.
// Static serves a fixed list of API URLs; the updater master will provide
// the list of the instances registered with it.
//
// A Collector keeps the previous sample of each instance, so CPU % is the
// CPU time spent between two samples over the wall time between them
// (server/monitor.CPUPercent), never the average since the process
// started. The first Collect therefore samples every instance twice, one
// interval apart; later ones (--watch) compare with the sample of the
// previous refresh.
//
// An instance that does not answer is a row with its error, not a failure
// of the whole report: Report.Err fails only when no instance answered.
//
// # JSON
//
// Report.WriteJSON prints an array with one object per instance, in the
// order the instances were listed. Every key is always present:
//
//	instance     string   the instance's name (for a URL, its host and path)
//	url          string   the API base URL that was asked
//	status       string   "up", or "error" when a call failed
//	error        string   why the instance failed; "" when up
//	uid          string   the process's random id (system.uid); a new one means a new process
//	commit       string   short commit hash the binary was built from
//	branch       string   its branch
//	version      string   the binary's version (system.package.version)
//	started_at   string   when the process started (system.created_at, ISO 8601 UTC)
//	uptime_seconds int    whole seconds since started_at at the sample
//	cpu_percent  number   CPU % since the previous sample (100 = one core), to two
//	                      decimals, or null when there is no previous sample of the
//	                      same process yet
//	rss_bytes    int      resident set size
//	goroutines   int      live goroutines
//	requests     int      requests served since the process started
//	errors       int      of those, answered with a 5xx or panicked
//	restarts     int      processes seen for this instance while monitoring, minus one
//	system       object   the raw GET /monitors/system answer, or null
//	performance  object   the raw GET /monitors/performance answer, or null
//
// A failed instance has its last error and zero values elsewhere (null
// system and performance). Restarts counts the distinct uids seen since
// the Collector was made, so it is 0 in a single report unless the
// process changed between its two samples; with --watch it counts every
// handoff or restart observed.
package monitor
