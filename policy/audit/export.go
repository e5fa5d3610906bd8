package audit

import (
	"encoding/csv"
	"encoding/json"
	"fmt"
	"io"
	"strconv"
	"time"
)

// csvHeader is the first row ExportCSV writes.
var csvHeader = []string{"seq", "time", "actor", "role", "action", "target", "outcome", "detail", "prev", "hash"}

// ExportCSV writes entries as CSV with a header row, chain hashes included so that an
// exported file can still be checked against the log.
func ExportCSV(w io.Writer, entries []Entry) error {
	cw := csv.NewWriter(w)
	if err := cw.Write(csvHeader); err != nil {
		return fmt.Errorf("audit: csv export: %w", err)
	}
	for _, e := range entries {
		row := []string{strconv.FormatUint(e.Seq, 10), e.Time.UTC().Format(time.RFC3339Nano), e.Actor, e.Role,
			e.Action, e.Target, e.Outcome, e.Detail, e.Prev, e.Hash}
		if err := cw.Write(row); err != nil {
			return fmt.Errorf("audit: csv export: %w", err)
		}
	}
	cw.Flush()
	if err := cw.Error(); err != nil {
		return fmt.Errorf("audit: csv export: %w", err)
	}
	return nil
}

// ExportJSON writes entries as one indented JSON array.
func ExportJSON(w io.Writer, entries []Entry) error {
	if entries == nil {
		entries = []Entry{}
	}
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	if err := enc.Encode(entries); err != nil {
		return fmt.Errorf("audit: json export: %w", err)
	}
	return nil
}
