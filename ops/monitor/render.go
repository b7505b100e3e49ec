package monitor

import (
	"encoding/json"
	"fmt"
	"io"
	"math"
	"strconv"
	"text/tabwriter"
	"time"
)

// none stands for a figure that is not known.
const none = "-"

// WriteTable prints the report as an aligned table, one line per
// instance: INSTANCE, COMMIT (short hash and branch), VERSION, UPTIME,
// CPU%, RSS, GOROUTINES, REQUESTS, ERRORS, RESTARTS and STATUS ("up", or
// "error: " and why).
func (r *Report) WriteTable(w io.Writer) error {
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	fmt.Fprintln(tw, "INSTANCE\tCOMMIT\tVERSION\tUPTIME\tCPU%\tRSS\tGOROUTINES\tREQUESTS\tERRORS\tRESTARTS\tSTATUS")
	for _, row := range r.Rows {
		if row.Status != StatusUp {
			fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%d\terror: %s\n",
				row.Instance, none, none, none, none, none, none, none, none, row.Restarts, row.Error)
			continue
		}
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\t%s\t%d\t%d\t%d\t%d\t%s\n",
			row.Instance, formatCommit(row.Commit, row.Branch), orNone(row.Version),
			formatUptime(row), formatCPU(row.CPUPercent), formatBytes(row.RSSBytes),
			row.Goroutines, row.Requests, row.Errors, row.Restarts, row.Status)
	}
	return tw.Flush()
}

// WriteJSON prints the rows as a JSON array (see the package
// documentation), indented for people or, with indent false, on one line
// for a stream of reports.
func (r *Report) WriteJSON(w io.Writer, indent bool) error {
	rows := r.Rows
	if rows == nil {
		rows = []Row{}
	}
	enc := json.NewEncoder(w)
	if indent {
		enc.SetIndent("", "  ")
	}
	return enc.Encode(rows)
}

// formatCommit shows the short hash and, when known, the branch:
// "1a2b3c4 (main)".
func formatCommit(hash, branch string) string {
	switch {
	case hash == "":
		return none
	case branch == "":
		return hash
	}
	return hash + " (" + branch + ")"
}

// formatUptime shows how long the process has run in its two largest
// units: 42s, 5m07s, 3h04m, 2d03h. A start time that could not be read
// shows as "-".
func formatUptime(row Row) string {
	if _, err := time.Parse(time.RFC3339, row.StartedAt); err != nil {
		return none
	}
	s := row.UptimeSeconds
	switch {
	case s < 60:
		return fmt.Sprintf("%ds", s)
	case s < 3600:
		return fmt.Sprintf("%dm%02ds", s/60, s%60)
	case s < 86400:
		return fmt.Sprintf("%dh%02dm", s/3600, s%3600/60)
	}
	return fmt.Sprintf("%dd%02dh", s/86400, s%86400/3600)
}

// formatCPU shows a percentage with one decimal, or "-" when unknown.
func formatCPU(p *float64) string {
	if p == nil {
		return none
	}
	return strconv.FormatFloat(*p, 'f', 1, 64) + "%"
}

// formatBytes shows a size in binary units with one decimal: 512 B,
// 1.5 KiB, 42.3 MiB, 1.2 GiB.
func formatBytes(n int64) string {
	const unit = 1024
	if n < unit {
		return strconv.FormatInt(n, 10) + " B"
	}
	units := []string{"KiB", "MiB", "GiB", "TiB"}
	v, i := float64(n)/unit, 0
	// Compare the value as printed, so 1023.97 KiB shows as 1.0 MiB.
	for i < len(units)-1 && math.Round(v*10)/10 >= unit {
		v /= unit
		i++
	}
	return strconv.FormatFloat(v, 'f', 1, 64) + " " + units[i]
}

// orNone returns s, or "-" when it is empty.
func orNone(s string) string {
	if s == "" {
		return none
	}
	return s
}
