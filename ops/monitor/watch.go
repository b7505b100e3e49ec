package monitor

import (
	"context"
	"fmt"
	"io"
)

// clearScreen moves the cursor home and erases the terminal.
const clearScreen = "\x1b[H\x1b[2J"

// WatchOptions configure Watch.
type WatchOptions struct {
	// JSON prints each report as a JSON array on one line (JSON Lines)
	// instead of a table.
	JSON bool
	// Clear clears the screen before each table, for a terminal; without
	// it successive tables are separated by a blank line.
	Clear bool
	// Logf reports, with JSON, the refreshes that failed as a whole (the
	// instances could not be listed); nil drops them. Tables show such an
	// error in place of the rows.
	Logf func(format string, args ...any)
}

// Watch prints a report every interval until ctx ends, then returns nil.
// A refresh that fails as a whole is reported and the next one tried; it
// returns an error only when w cannot be written.
func (c *Collector) Watch(ctx context.Context, w io.Writer, opts WatchOptions) error {
	for first := true; ; first = false {
		rep, err := c.Collect(ctx)
		if ctx.Err() != nil {
			return nil
		}
		if err != nil && opts.JSON && opts.Logf != nil {
			opts.Logf("monitor: %v", err)
		}
		if werr := c.writeFrame(w, opts, first, rep, err); werr != nil {
			return werr
		}
		if err := c.opts.Sleep(ctx, c.opts.Interval); err != nil {
			if ctx.Err() != nil {
				return nil
			}
			return err
		}
	}
}

// writeFrame prints one refresh: a report, or the error that prevented it.
func (c *Collector) writeFrame(w io.Writer, opts WatchOptions, first bool, rep *Report, err error) error {
	if opts.JSON {
		if err != nil {
			return nil
		}
		return rep.WriteJSON(w, false)
	}
	switch {
	case opts.Clear:
		if _, werr := io.WriteString(w, clearScreen); werr != nil {
			return werr
		}
	case !first:
		if _, werr := io.WriteString(w, "\n"); werr != nil {
			return werr
		}
	}
	if err != nil {
		_, werr := fmt.Fprintf(w, "Every %s. Ctrl-C to stop.\nerror: %v\n", c.opts.Interval, err)
		return werr
	}
	if _, werr := fmt.Fprintf(w, "Every %s, at %s. Ctrl-C to stop.\n", c.opts.Interval, rep.At.Format("2006-01-02 15:04:05")); werr != nil {
		return werr
	}
	return rep.WriteTable(w)
}
