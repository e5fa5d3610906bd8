package audit

import (
	"bytes"
	"encoding/csv"
	"encoding/json"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func fixedClock() func() time.Time {
	t := time.Date(2026, 11, 27, 9, 0, 0, 0, time.UTC)
	return func() time.Time { t = t.Add(time.Second); return t }
}

// writeLog appends n entries and returns the log text and its head.
func writeLog(t *testing.T, n int, opts ...Option) (string, Checkpoint) {
	t.Helper()
	var buf bytes.Buffer
	l := NewLog(&buf, Checkpoint{}, append([]Option{WithClock(fixedClock())}, opts...)...)
	for i := range n {
		_, err := l.Append(Entry{Actor: "sec", Role: "security-admin", Action: "grant", Target: "user" + string(rune('a'+i)), Outcome: "ok"})
		require.NoError(t, err)
	}
	return buf.String(), l.Head()
}

func lines(s string) []string { return strings.Split(strings.TrimSuffix(s, "\n"), "\n") }

func join(ls []string) string { return strings.Join(ls, "\n") + "\n" }

func requireTamper(t *testing.T, err error, line int, problem string) {
	t.Helper()
	require.ErrorIs(t, err, ErrTampered)
	var te *TamperError
	require.ErrorAs(t, err, &te)
	assert.Equal(t, line, te.Line)
	assert.Contains(t, te.Problem, problem)
}

func TestIntactLogVerifies(t *testing.T) {
	text, head := writeLog(t, 5)
	got, err := Verify(strings.NewReader(text), &head)
	require.NoError(t, err)
	assert.Equal(t, head, got)
	assert.EqualValues(t, 5, head.Seq)

	// Resuming from the verified head continues the same chain.
	var more bytes.Buffer
	l := NewLog(&more, got, WithClock(fixedClock()))
	_, err = l.Append(Entry{Actor: "aud", Role: "auditor", Action: "audit.export", Outcome: "ok"})
	require.NoError(t, err)
	all := text + more.String()
	h := l.Head()
	_, err = Verify(strings.NewReader(all), &h)
	require.NoError(t, err)
}

func TestVerifyFindsEditedEntry(t *testing.T) {
	text, head := writeLog(t, 5)
	ls := lines(text)
	ls[2] = strings.Replace(ls[2], `"outcome":"ok"`, `"outcome":"denied"`, 1)
	_, err := Verify(strings.NewReader(join(ls)), &head)
	requireTamper(t, err, 3, "edited")
}

func TestVerifyFindsRemovedEntry(t *testing.T) {
	text, head := writeLog(t, 5)
	ls := lines(text)
	ls = append(ls[:1], ls[2:]...)
	_, err := Verify(strings.NewReader(join(ls)), &head)
	requireTamper(t, err, 2, "sequence number 3 follows 1")
}

func TestVerifyFindsReorderedEntries(t *testing.T) {
	text, head := writeLog(t, 5)
	ls := lines(text)
	ls[1], ls[3] = ls[3], ls[1]
	_, err := Verify(strings.NewReader(join(ls)), &head)
	requireTamper(t, err, 2, "sequence number 4 follows 1")
}

func TestVerifyFindsRenumberedEntry(t *testing.T) {
	// Removing entry 2 and renumbering the rest keeps the sequence but breaks the links.
	text, head := writeLog(t, 4)
	ls := lines(text)
	var e Entry
	require.NoError(t, json.Unmarshal([]byte(ls[2]), &e))
	e.Seq = 2
	b, err := json.Marshal(e)
	require.NoError(t, err)
	ls = []string{ls[0], string(b)}
	_, err = Verify(strings.NewReader(join(ls)), &head)
	requireTamper(t, err, 2, "does not link")
}

func TestVerifyFindsTruncationOnlyWithCheckpoint(t *testing.T) {
	text, head := writeLog(t, 5)
	ls := lines(text)
	cut := join(ls[:3])
	_, err := Verify(strings.NewReader(cut), nil)
	require.NoError(t, err, "a chain cut at the end is still a valid chain")
	_, err = Verify(strings.NewReader(cut), &head)
	requireTamper(t, err, 0, "ends at entry 3, the checkpoint says 5")
}

func TestKeyedLogResistsRewriting(t *testing.T) {
	key := []byte("kept in the HSM")
	text, head := writeLog(t, 3, WithKey(key))
	_, err := Verify(strings.NewReader(text), &head, WithKey(key))
	require.NoError(t, err)

	// Someone without the key rebuilds the chain after an edit: plain hashes don't verify.
	var forged bytes.Buffer
	l := NewLog(&forged, Checkpoint{}, WithClock(fixedClock()))
	for _, line := range lines(text) {
		var e Entry
		require.NoError(t, json.Unmarshal([]byte(line), &e))
		e.Outcome = "denied"
		_, err := l.Append(e)
		require.NoError(t, err)
	}
	_, err = Verify(strings.NewReader(forged.String()), nil, WithKey(key))
	requireTamper(t, err, 1, "edited")
}

func TestVerifyRejectsGarbage(t *testing.T) {
	text, _ := writeLog(t, 2)
	_, err := Verify(strings.NewReader(text+"{not json\n"), nil)
	requireTamper(t, err, 3, "not a JSON entry")
	_, err = Verify(strings.NewReader(text+"\n"+text), nil)
	requireTamper(t, err, 3, "empty line")
}

func TestExports(t *testing.T) {
	text, _ := writeLog(t, 3)
	entries, err := ReadAll(strings.NewReader(text))
	require.NoError(t, err)
	require.Len(t, entries, 3)

	var c bytes.Buffer
	require.NoError(t, ExportCSV(&c, entries))
	rows, err := csv.NewReader(&c).ReadAll()
	require.NoError(t, err)
	require.Len(t, rows, 4)
	assert.Equal(t, csvHeader, rows[0])
	assert.Equal(t, "2", rows[2][0])
	assert.Equal(t, "userb", rows[2][5])
	assert.Equal(t, entries[1].Hash, rows[2][9])

	var j bytes.Buffer
	require.NoError(t, ExportJSON(&j, entries))
	var back []Entry
	require.NoError(t, json.Unmarshal(j.Bytes(), &back))
	assert.Equal(t, entries, back)

	j.Reset()
	require.NoError(t, ExportJSON(&j, nil))
	assert.Equal(t, "[]\n", j.String())
}

func FuzzVerify(f *testing.F) {
	var buf bytes.Buffer
	l := NewLog(&buf, Checkpoint{}, WithClock(fixedClock()))
	for _, a := range []string{"grant", "revoke"} {
		if _, err := l.Append(Entry{Actor: "sec", Action: a, Outcome: "ok"}); err != nil {
			f.Fatal(err)
		}
	}
	f.Add(buf.String())
	f.Add("")
	f.Add("{}\n")
	f.Add(`{"seq":1,"prev":"","hash":"00"}` + "\n")
	f.Fuzz(func(t *testing.T, text string) {
		head, err := Verify(strings.NewReader(text), nil)
		if err != nil {
			return
		}
		// Whatever verifies must verify again against its own head, and decode entry by entry.
		_, err = Verify(strings.NewReader(text), &head)
		require.NoError(t, err)
		entries, err := ReadAll(strings.NewReader(text))
		require.NoError(t, err)
		require.Len(t, entries, int(head.Seq))
	})
}
